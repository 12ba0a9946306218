"""The quick-start notebook (the main job, `make demo`) runs end to end under papermill.

A short run (few pretraining steps, small vocabulary) in a temporary output directory:
every stage executes in the golem kernel and the notebook ends with `checkpoint: PATH`,
a checkpoint that `golem generate` can load.
"""

import json
import pathlib
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
    last = [l for l in text.splitlines() if l.startswith("checkpoint: ")]
    assert last, text[-2000:]
    ckpt = pathlib.Path(last[-1].split(": ", 1)[1])
    assert ckpt.is_dir() and str(ckpt).startswith(str(out_dir)), ckpt
    g = subprocess.run([golem_bin, "generate", "--checkpoint", str(ckpt), "--prompt", "The", "--max-tokens", "5"],
                       capture_output=True, text=True, timeout=120)
    assert g.returncode == 0, g.stderr
