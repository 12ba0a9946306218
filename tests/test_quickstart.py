"""The quick-start notebook (the main job, `make demo`) runs end to end under papermill.

A short run (few pretraining steps, small vocabulary) in a temporary output directory:
every stage executes in the golem kernel and the notebook ends with `checkpoint: PATH`,
a checkpoint that `golem generate` can load.
"""

import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def outputs_text(nb):
    text = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                text.append("".join(o["text"]))
            elif "data" in o and "text/plain" in o["data"]:
                text.append("".join(o["data"]["text/plain"]))
    return "\n".join(text)


def test_quickstart_end_to_end(tmp_path, golem_bin):
    out_nb = tmp_path / "quickstart.ipynb"
    out_dir = tmp_path / "run"
    r = subprocess.run(
        [sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "quickstart.ipynb"), str(out_nb),
         "-k", "golem", "--cwd", str(ROOT / "notebooks"),
         "-p", "trainSteps", "30", "-p", "vocabSize", "600", "-p", "outDir", str(out_dir)],
        capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    text = outputs_text(json.loads(out_nb.read_text()))
    for want in ["documents collected", "gopher_quality", "vocabulary of 600 tokens", "validation loss",
                 "bits per byte", "cloze accuracy", "sample: Light is"]:
        assert want in text, f"{want!r} missing from the notebook's output:\n{text[-2000:]}"
    # make demo prints the executed notebook with kernel/scripts/show_notebook.py: the sample,
    # streamed in many stream messages, reads as one text followed by its stop reason
    nb = json.loads(out_nb.read_text())
    [gen] = [c for c in nb["cells"] if "eval.Generate(" in "".join(c["source"])]
    streamed = "".join("".join(o["text"]) for o in gen["outputs"] if o.get("output_type") == "stream")
    shown = subprocess.run([sys.executable, str(ROOT / "kernel" / "scripts" / "show_notebook.py"), str(out_nb)],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and streamed in shown.stdout, (streamed, shown.stdout[-2000:])
    assert re.search(r"\(\d+ new tokens, stopped by (max_tokens|eot)\)", streamed), streamed
    last = [l for l in text.splitlines() if l.startswith("checkpoint: ")]
    assert last, text[-2000:]
    ckpt = pathlib.Path(last[-1].split(": ", 1)[1])
    assert ckpt.is_dir() and str(ckpt).startswith(str(out_dir)), ckpt
    g = subprocess.run([golem_bin, "generate", "--checkpoint", str(ckpt), "--prompt", "The", "--max-tokens", "5"],
                       capture_output=True, text=True, timeout=120)
    assert g.returncode == 0, g.stderr


def test_show_notebook_prints_streams_as_one_text(tmp_path):
    """kernel/scripts/show_notebook.py (make demo's printer): consecutive stream outputs
    of one name are one text, as JupyterLab shows them (a streamed sample arrives in
    many messages); a newline ends a run that lacks one; results print as text/plain."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    cell = new_code_cell("x", execution_count=3, outputs=[
        new_output("stream", name="stdout", text="sample: Li"),
        new_output("stream", name="stdout", text="ght is"),
        new_output("stream", name="stdout", text=" refracted"),
        new_output("stream", name="stderr", text="warning"),
        new_output("execute_result", data={"text/plain": '"max_tokens"'}, execution_count=3),
    ])
    path = tmp_path / "nb.ipynb"
    nbformat.write(new_notebook(cells=[cell]), path)
    shown = subprocess.run([sys.executable, str(ROOT / "kernel" / "scripts" / "show_notebook.py"), str(path)],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == '[3]\nsample: Light is refracted\nwarning\n"max_tokens"\n', shown.stdout
