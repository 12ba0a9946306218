"""Every notebook under papermill at its defaults, in the golem kernel, with the
outputs that matter checked in the executed .ipynb: HTML tables, token spans, the
chart's MIME bundle, a falling loss, samples, a deployed function's answers.

The notebooks write under out/ (as `make demo` does); the deploy notebook starts
and stops its own `golem serve` on a free loopback port.
"""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NB = ROOT / "notebooks"


def execute(name, tmp_path, *args):
    """Runs notebooks/NAME.ipynb with papermill; returns the executed notebook."""
    out = tmp_path / f"{name}.ipynb"
    r = subprocess.run([sys.executable, "-m", "papermill", str(NB / f"{name}.ipynb"), str(out), "-k", "golem",
                        "--cwd", str(NB), *args], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(out.read_text())


def outputs(nb):
    """(cell index, output) for every output of every code cell."""
    return [(i, o) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" for o in c.get("outputs", [])]


def texts(nb):
    """All text the notebook shows: streams and text/plain of results and displays."""
    out, last = [], None
    for i, o in outputs(nb):
        if o["output_type"] == "stream":
            # consecutive stream outputs of a cell read as one, as the front ends show them
            # (how a cell's prints are split into messages depends on timing)
            if last == (i, o["name"]):
                out[-1] += "".join(o["text"])
            else:
                out.append("".join(o["text"]))
            last = (i, o["name"])
        elif "data" in o:
            out.append("".join(o["data"].get("text/plain", "")))
            last = None
    return "\n".join(out)


def rich(nb, mime):
    """The data of every output with a MIME type (as one string each)."""
    res = []
    for _, o in outputs(nb):
        v = o.get("data", {}).get(mime)
        if v is not None:
            res.append(v if isinstance(v, (dict, list)) and mime.endswith("json") else "".join(v))
    return res


def table_rows(nb, first_header):
    """The rows (lists of cells) of the text/plain table whose header starts with first_header."""
    for t in rich(nb, "text/plain"):
        lines = t.splitlines()
        if lines and lines[0].split() and lines[0].split()[0] == first_header:
            return [l.split() for l in lines[1:] if l.strip()]
    pytest.fail(f"no table with header {first_header!r} in:\n{texts(nb)[-3000:]}")


def test_collect_clean(tmp_path):
    nb = execute("01_collect_clean", tmp_path)
    stats = [h for h in rich(nb, "text/html") if "<table" in h and "drop reasons" in h]
    assert len(stats) == 3, "the books, web and code pipelines each show their stats table"
    assert "gopher_quality" in stats[0] and "extract" in stats[1] and "exact_dedup" in stats[2]
    mix = {r[1]: r for r in table_rows(nb, "Kind")}
    assert set(mix) == {"books", "web", "code"}, mix
    for kind, r in mix.items():
        raw, kept = int(r[2]), int(r[3])
        assert 0 < kept <= raw, (kind, r)
    sample = [h for h in rich(nb, "text/html") if "<th>ID</th><th>Text</th>" in h]
    assert sample and re.search(r"<td>[\w/]+\.go</td>", sample[0]), "a Go file among the sample documents"


def test_tokenizer(tmp_path):
    nb = execute("02_tokenizer", tmp_path)
    spans = [h for h in rich(nb, "text/html") if "<span title=" in h]
    assert len(spans) == 3 and all(h.count("<span title=") >= 10 for h in spans), "coloured token spans"
    rows = {r[1]: r for r in table_rows(nb, "Tokenizer")}
    assert set(rows) == {"trained", "gpt2", "cl100k_base"}, rows
    assert float(rows["cl100k_base"][4]) < float(rows["trained"][4]), "cl100k_base compresses Go better"
    assert "reads back identical: true" in texts(nb)


def test_pretrain(tmp_path):
    nb = execute("03_pretrain", tmp_path)
    charts = rich(nb, "application/vnd.vegalite.v5+json")
    assert charts and all(c["mark"]["type"] == "line" and c["data"]["values"] for c in charts)
    t = texts(nb)
    first, last = map(float, re.search(r"first loss ([\d.]+), last loss ([\d.]+)", t).groups())
    assert last < first - 1.0, (first, last)
    m = re.search(r"resumed at step 200, now step 300: validation loss ([\d.]+) -> ([\d.]+)", t)
    assert m and float(m.group(2)) < float(m.group(1)), t[-2000:]
    assert [r[1] for r in table_rows(nb, "Dir")][-1] == "step_00000300"


def test_evaluate(tmp_path):
    nb = execute("04_evaluate", tmp_path)
    t = texts(nb)
    bpb = float(re.search(r"bits per byte ([\d.]+)", t).group(1))
    assert 0.5 < bpb < 4, bpb
    tables = [h for h in rich(nb, "text/html") if "<table" in h]
    assert any("bits/byte" in h for h in tables)
    assert any("books_cloze" in h and "next_sentence" in h for h in tables), "the lm-eval results table"
    samples = table_rows(nb, "Temperature")
    assert len(samples) == 3 and all(r[2] == "Light" for r in samples), samples


def test_finetune(tmp_path):
    nb = execute("05_finetune", tmp_path)
    rows = table_rows(nb, "When")
    before, after = float(rows[0][-1]), float(rows[1][-1])
    assert after < before - 0.5, (before, after)
    assert "saved ../out/finetune/finetuned" in texts(nb)


def test_deploy(tmp_path):
    try:
        nb = execute("06_deploy", tmp_path)
    finally:  # a failed run must not leave its host running
        pid = NB.parent / "out" / "deploy" / "serve.pid"
        if pid.exists():
            try:
                os.kill(int(pid.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
    html = rich(nb, "text/html")
    assert any("<b>deployed keep-prose</b>" in h for h in html)
    t = texts(nb)
    kept = re.search(r"job \w+ succeeded: (\d+) of 200 paragraphs kept", t)
    assert kept and 0 < int(kept.group(1)) < 200, t[-2000:]
    assert "{gpt2 [15496 995]}" in t
    assert "golem serve stopped" in t
    trial = table_rows(nb, "ID")
    assert trial[0][1:3] == ["a", "false"] and trial[1][1:3] == ["b", "true"], trial


def test_quickstart_defaults(tmp_path):
    nb = execute("quickstart", tmp_path)
    html = rich(nb, "text/html")
    assert any("<table" in h and "gopher_quality" in h for h in html), "the cleaning table"
    assert any(h.count("<span title=") >= 8 for h in html), "the token spans"
    assert rich(nb, "application/vnd.vegalite.v5+json"), "the training chart"
    t = texts(nb)
    steps = [float(x) for x in re.findall(r"step \d+/1000  loss ([\d.]+)", t)]
    assert steps and steps[-1] < 5.0, steps
    assert re.search(r"sample: Light is\S* \S+ \S+", t)


def test_third_party(tmp_path):
    """%get of gonum, gonum/plot and google/uuid pinned in notebooks/go.mod; the
    kernel restarts into a binary with them and the later cells use them."""
    gomod = (NB / "go.mod").read_text()
    nb = execute("third_party", tmp_path)
    assert (NB / "go.mod").read_text() == gomod, "a rerun keeps the pinned versions"
    t = texts(nb)
    # a first run restarts into the binary it builds; a rerun starts in it (.golem/kernel/current)
    assert "the kernel restarts after this cell into" in t or "this kernel has them compiled in" in t, t
    assert "x = ⎡0.2222⎤" in t and re.search(r"residual (\d\.\de-1\d|0\.0e\+00)", t), t
    assert "mean height 1.718 m, std 0.130 m" in t and "correlation with weight 0.995" in t, t
    assert "2296b070-ad0f-5d54-ad8e-d2173b82490c version VERSION_5" in t, t
    assert rich(nb, "image/png") and any("damped oscillation" in s for s in rich(nb, "image/svg+xml"))


def test_generate_widgets(tmp_path):
    """The widgets notebook under papermill: the widgets display (the widget view and
    its text/plain fallback), the Go callbacks run when Go moves the sliders, and
    nbclient keeps the widget state in the notebook. nbclient's plain engine hangs on
    this notebook about one run in five; golem_papermill's default engine does not
    (tests/test_papermill.py has the race)."""
    nb = execute("generate_widgets", tmp_path, "-p", "pretrainSteps", "60")
    views = rich(nb, "application/vnd.jupyter.widget-view+json")
    assert len(views) == 1 and views[0]["version_major"] == 2, views
    t = texts(nb)
    assert "VBox(HBox(FloatSlider(value=0.8, min=0, max=1.5" in t, t[-2000:]
    # the last cell set temperature 0.3 then top-k 5 from Go: the callbacks sampled again
    assert re.search(r"temperature 0\.30, top-k 5, seed 1: Light is\S*", t), t[-2000:]
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    names = sorted(m["model_name"] for m in state.values())
    assert {"FloatSliderModel", "IntSliderModel", "TextModel", "ButtonModel", "OutputModel", "HBoxModel",
            "VBoxModel", "LayoutModel", "SliderStyleModel"} <= set(names), names
    [topk] = [m for m in state.values() if m["model_name"] == "IntSliderModel"]
    assert topk["state"]["value"] == 5
    # what the callbacks printed went to the Output widget (nbclient keeps its outputs in its state)
    [out] = [m for m in state.values() if m["model_name"] == "OutputModel"]
    captured = "".join("".join(o.get("text", "")) for o in out["state"].get("outputs", []))
    assert "temperature 0.30, top-k 5" in captured, out["state"]


def test_subshells(tmp_path):
    """notebooks/subshells.ipynb: the live progress of a run read while it trains
    (in a goroutine: papermill runs one shell), evaluated in WithModel, charted."""
    nb = execute("subshells", tmp_path)
    t = texts(nb)
    assert re.search(r"step \d+/300  loss [\d.]+  val NaN  \(running\)", t), t[-2000:]
    m = re.search(r"validation loss at step (\d+): ([\d.]+) \(error: <nil>\)", t)
    assert m and 0 < float(m.group(2)) < 10, t[-2000:]
    assert "finished: true 300 300 <nil>" in t, t[-2000:]
    charts = rich(nb, "application/vnd.vegalite.v5+json")
    assert charts and charts[-1]["data"]["values"], charts


def test_debugger(tmp_path):
    """notebooks/debugger.ipynb (the walk-through of JupyterLab's debugger, whose
    cells tests/test_lab_control.py stops in) runs under papermill."""
    nb = execute("debugger", tmp_path)
    assert '"GOGOGO"' in texts(nb), texts(nb)


def test_generate_widgets_with_jupyter_client():
    """notebooks/generate_widgets.ipynb run cell by cell with jupyter_client (a
    client that does not mirror Output widgets, as JupyterLab does not): every cell
    ends ok, the widgets display as widget views, and moving the sliders from Go
    runs the Go callbacks, whose sample goes to the Output widget (a stream whose
    parent is the cell, inside the msg_id capture)."""
    import queue

    from jupyter_client.manager import start_new_kernel

    nb = json.loads((NB / "generate_widgets.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    cells = [re.sub(r"^pretrainSteps := \d+", "pretrainSteps := 60", c, flags=re.M) for c in cells]
    km, kc = start_new_kernel(kernel_name="golem", cwd=str(NB), startup_timeout=60)
    try:
        seen = []
        for src in cells:
            mid = kc.execute(src)
            reply = kc.get_shell_msg(timeout=300)
            while reply["parent_header"].get("msg_id") != mid:
                reply = kc.get_shell_msg(timeout=300)
            assert reply["content"]["status"] == "ok", (src, reply["content"])
            while True:  # this cell's IOPub messages up to its idle
                m = kc.get_iopub_msg(timeout=60)
                if m["parent_header"].get("msg_id") != mid:
                    continue
                seen.append(m)
                if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    break
        views = [m for m in seen if m["msg_type"] in ("display_data", "execute_result")
                 and "application/vnd.jupyter.widget-view+json" in m["content"]["data"]]
        assert len(views) == 1, views
        opened = {m["content"]["data"]["state"]["_model_name"] for m in seen if m["msg_type"] == "comm_open"}
        assert {"FloatSliderModel", "IntSliderModel", "OutputModel", "VBoxModel"} <= opened, opened
        streams = "".join(m["content"]["text"] for m in seen if m["msg_type"] == "stream")
        assert re.search(r"temperature 0\.30, top-k 5, seed 1: Light is\S*", streams), streams[-2000:]
        captures = [m["content"]["data"]["state"]["msg_id"] for m in seen if m["msg_type"] == "comm_msg"
                    and "msg_id" in m["content"]["data"].get("state", {})]
        assert captures and captures[0] and "" in captures, captures  # set to the cell, then back
    finally:
        km.shutdown_kernel(now=True)
        try:
            kc.stop_channels()
        except queue.Empty:
            pass


def test_notebooks_are_what_their_generators_write(tmp_path):
    """Every notebooks/make_*.py, run again, writes its notebooks byte for byte as
    checked in (edit the generator, not the .ipynb), and every notebook but the two
    small fixtures of tests/test_papermill.py has one."""
    import os
    import subprocess
    import sys

    for gen in sorted(NB.glob("make_*.py")):
        subprocess.run([sys.executable, str(gen)], check=True, capture_output=True,
                       env={**os.environ, "NBGEN_OUT": str(tmp_path)})
    written = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    assert written == sorted(p.name for p in NB.glob("*.ipynb") if p.name not in ("params.ipynb", "fail.ipynb")), written
    for name in written:
        assert (tmp_path / name).read_bytes() == (NB / name).read_bytes(), f"{name} differs from its generator's output"
