"""The quick-start in JupyterLab, in a real browser, checked as a user sees it.

JupyterLab (pinned in requirements.txt) serves a private root holding a copy of
notebooks/quickstart.ipynb (its parameters cell set for a short run) with the golem
kernelspec from conftest.py; Debian's chromium, driven by selenium through Debian's
chromium-driver (scripts/system-deps.sh), opens it, runs all cells from the Run
menu and checks what each output area shows: the cleaning stats as a table, the
tokens as coloured spans, the training chart updated in place, the streamed
sample. Then completion on `tok.` + Tab, streamed generation in a new cell, and
the ■ button interrupting a running training cell, after which the kernel is
alive and the model usable. Screenshots go to build/lab/.

Nothing is downloaded: the browser and its driver are the system's
(SE_OFFLINE keeps selenium from looking for others).
"""

import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "lab"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
TRAIN_STEPS = 300
LONG = 600  # seconds: the most a running cell is waited for on a busy 2-core machine
SHORT = 60  # seconds: the most the page is waited for after a click or key



def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def short_quickstart(dst, out_dir):
    """The quick-start with its parameters cell set for a short run."""
    nb = json.loads((ROOT / "notebooks" / "quickstart.ipynb").read_text())
    params = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    # Only the values change, so a parameter the notebook gains stays defined.
    src = "".join(params[0]["source"])
    for name, value in (("trainSteps", str(TRAIN_STEPS)), ("vocabSize", "600"), ("outDir", json.dumps(str(out_dir)))):
        src, n = re.subn(rf"^{name} := \S+", lambda _: f"{name} := {value}", src, flags=re.M)
        assert n == 1, f"the quick-start's parameters cell has no {name}: {src}"
    params[0]["source"] = src
    dst.write_text(json.dumps(nb, indent=1))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def serve_lab(base, root):
    """Runs JupyterLab (the venv's, no news toast) on root until the generator is
    closed; yields its URL and token."""
    cfg = base / "config"
    (cfg / "labconfig").mkdir(parents=True)
    # no "receive Jupyter news?" toast over the notebook
    (cfg / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    port, token = free_port(), "golem-lab-test"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(cfg), JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
               JUPYTERLAB_SETTINGS_DIR=str(base / "settings"))
    log = open(base / "lab.log", "w")
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "jupyter-lab"), "--no-browser", "--allow-root",
                             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                             "--LabApp.extension_manager=readonly"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail("jupyter lab did not start:\n" + (base / "lab.log").read_text()[-3000:])
            time.sleep(0.3)
    try:
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    sources = short_quickstart(root / "quickstart.ipynb", base / "out")
    for url, token in serve_lab(base, root):
        yield {"url": url, "token": token, "out": base / "out", "sources": sources}


@pytest.fixture(scope="module")
def browser():
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.fail("chromium and chromium-driver are not installed: run scripts/system-deps.sh")
    os.environ["SE_OFFLINE"] = "true"  # selenium must not look for a driver to download
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
              "--disable-gpu", "--lang=en-US"]:
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield d
    d.quit()


# ---------------------------------------------------------------------------
# What the page shows


def wait(cond, what, timeout=LONG, every=0.2):
    """Polls cond until it returns something truthy; fails naming what was awaited."""
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > deadline:
            pytest.fail(f"waited {timeout}s for {what}")
        time.sleep(every)


def js(d, script, *args):
    return d.execute_script(script, *args)


# Each code cell as the page shows it: its prompt ("[3]:", "[*]:", "[ ]:") and
# outputs (MIME type as rendered, text, HTML), read in one round trip. (Sources
# come from the notebook file: the editor renders only the lines in view.)
CELLS_JS = """
return Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell.jp-CodeCell')).map(c => ({
  prompt: ((c.querySelector('.jp-InputPrompt') || {}).textContent || '').trim(),
  outputs: Array.from(c.querySelectorAll('.jp-OutputArea-child .jp-OutputArea-output')).map(o => ({
    mime: o.getAttribute('data-mime-type') || '',
    text: o.textContent,
    html: o.innerHTML,
  })),
}));
"""


def cells(d):
    return js(d, CELLS_JS)


def cell_index(lab, needle):
    """The index of the quick-start's code cell whose source holds needle."""
    for i, src in enumerate(lab["sources"]):
        if needle in src:
            return i
    pytest.fail(f"no cell with {needle!r}")


def cell_el(d, i):
    return d.find_elements("css selector", ".jp-Notebook .jp-Cell.jp-CodeCell")[i]


def done(c):
    return re.fullmatch(r"\[\d+\]:", c["prompt"]) is not None


def shot_cell(d, i, name, part=".jp-Cell-outputWrapper"):
    """A screenshot of code cell i's output area (part) under build/lab/."""
    el = cell_el(d, i).find_element("css selector", part)
    js(d, "arguments[0].scrollIntoView({block: 'start'})", el)
    time.sleep(0.3)  # let the scroll settle before the picture (not an assertion)
    el.screenshot(str(SHOTS / name))


def click_menu(d, menu, item):
    from selenium.webdriver.common.by import By
    d.find_element(By.XPATH, f"//li[contains(@class,'lm-MenuBar-item')][.//div[text()='{menu}']]").click()
    wait(lambda: d.find_elements(By.XPATH, f"//li[contains(@class,'lm-Menu-item')][.//div[text()='{item}']]"),
         f"menu item {menu} > {item}", timeout=SHORT)[0].click()


def kernel_status(d):
    """The status bar's text: "Go (golem) | Idle" when the kernel waits."""
    return js(d, "return (document.querySelector('#jp-main-statusbar') || {}).innerText || ''")


def edit_new_cell(d):
    """Puts the cursor in an empty code cell at the end of the notebook, as a user
    does: the one Shift+Enter on the last cell left there, else a new one (b)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    n = len(cells(d))
    last = cell_el(d, n - 1)
    js(d, "arguments[0].scrollIntoView({block: 'center'})", last)
    empty = js(d, "return arguments[0].querySelector('.cm-content').textContent === ''", last)
    if empty and cells(d)[n - 1]["prompt"] == "[ ]:":
        last.find_element("css selector", ".cm-content").click()
        return n - 1
    last.find_element("css selector", ".jp-InputPrompt").click()  # select the cell (command mode)
    ActionChains(d).send_keys(Keys.ESCAPE).send_keys("b").perform()  # insert a cell below
    wait(lambda: len(cells(d)) == n + 1, "the new cell", timeout=SHORT)
    ActionChains(d).send_keys(Keys.ENTER).perform()  # edit it
    return n


def new_cell(d, code):
    """Types code into an empty cell at the end and runs it (Shift+Enter);
    returns the cell's index."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    i = edit_new_cell(d)
    type_code(d, code)
    ActionChains(d).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
    return i


def type_code(d, code):
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(d).send_keys(code).perform()
    # the editor auto-closes brackets and quotes; what it holds must be the code
    wait(lambda: js(d, "return document.activeElement.closest('.cm-content') ? "
                       "document.activeElement.closest('.cm-content').innerText : ''").strip() == code.strip(),
         f"the editor to hold {code!r}", timeout=SHORT)


# ---------------------------------------------------------------------------


def test_quickstart_in_jupyterlab(lab, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    d = browser
    d.get(f"{lab['url']}/lab/tree/quickstart.ipynb?token={lab['token']}")
    wait(lambda: len(cells(d)) >= 10, "the quick-start's cells", timeout=120)
    wait(lambda: "Idle" in kernel_status(d), "the golem kernel to start (status bar: Idle)", timeout=120)
    d.save_screenshot(str(SHOTS / "01-opened.png"))

    train_i = cell_index(lab, "train.Train(")
    click_menu(d, "Run", "Run All Cells")

    # The training cell, while it runs: the status line changes, the outputs stay
    # the same few (a line, the chart) — updated in place, not appended.
    seen_steps, most_outputs = set(), 0
    wait(lambda: cells(d)[train_i]["prompt"] == "[*]:", "the training cell to start")
    while not done(c := cells(d)[train_i]):
        most_outputs = max(most_outputs, len(c["outputs"]))
        for o in c["outputs"]:
            if m := re.search(rf"step (\d+)/{TRAIN_STEPS}", o["text"]):
                seen_steps.add(int(m.group(1)))
        time.sleep(0.2)
    wait(lambda: all(done(c) for c in cells(d)), "every cell to run")
    wait(lambda: "Idle" in kernel_status(d), "the kernel to be idle")
    d.save_screenshot(str(SHOTS / "02-run-all.png"))
    cs = cells(d)
    (SHOTS / "outputs.json").write_text(json.dumps(cs, indent=1))  # what each output area held
    errors = [(i, o["text"][:300]) for i, c in enumerate(cs) for o in c["outputs"] if "panic" in o["text"] or "Error" in o["text"][:40]]
    assert not errors, errors

    # Cleaning: the per-stage stats as an HTML table.
    i = cell_index(lab, "pipe.Run(")
    html = "".join(o["html"] for o in cs[i]["outputs"] if o["mime"] == "text/html")
    assert "<table" in html and "gopher_quality" in html and "c4_quality" in html, cs[i]["outputs"]
    shot_cell(d, i, "03-clean-table.png")

    # Tokenizer: coloured spans, one per token, with the ids as titles.
    i = cell_index(lab, "tok.Visualize(")
    spans = js(d, """return Array.from(arguments[0].querySelectorAll('.jp-OutputArea-output span[title]')).map(
        s => [s.textContent, s.title, getComputedStyle(s).backgroundColor])""", cell_el(d, i))
    assert len(spans) >= 8, spans
    assert "".join(s[0] for s in spans) == "Light is refracted by the Prism, said Tom.", spans
    assert all(s[1].isdigit() for s in spans) and len({s[2] for s in spans}) >= 3, spans
    shot_cell(d, i, "04-tokens.png")

    # Training: one chart (Vega-Lite, rendered) and one status line, updated in place.
    c = cs[train_i]
    charts = [o for o in c["outputs"] if "vega-embed" in o["html"]]  # JupyterLab's Vega-Lite renderer
    assert len(charts) == 1 and ("<canvas" in charts[0]["html"] or "<svg" in charts[0]["html"]), c["outputs"]
    assert any(f"step {TRAIN_STEPS}/{TRAIN_STEPS}" in o["text"] for o in c["outputs"]), c["outputs"]
    assert len(seen_steps) >= 2, f"the status line never changed while the cell ran: {seen_steps}"
    assert most_outputs <= len(c["outputs"]), (most_outputs, c["outputs"])
    shot_cell(d, train_i, "05-training.png")

    # Evaluation tables and the sample.
    i = cell_index(lab, "eval.DocLoss(")
    assert any("<table" in o["html"] for o in cs[i]["outputs"]), cs[i]["outputs"]
    i = cell_index(lab, "eval.Evaluate(")
    assert any("<table" in o["html"] and "books_cloze" in o["html"] for o in cs[i]["outputs"]), cs[i]["outputs"]
    i = cell_index(lab, "eval.Generate(")
    assert cs[i]["outputs"][0]["text"].startswith("sample: Light is"), cs[i]["outputs"]
    assert "checkpoint: " in cs[-1]["outputs"][0]["text"]

    # Streamed generation: the text grows in the output area while the cell runs.
    i = new_cell(d, 'g, err := eval.Generate(eval.NewGPT(model), bpe, "The", eval.GenerateOptions{MaxTokens: 120, '
                    'Sampler: eval.Sampler{Temperature: 0.8, TopK: 40, Seed: 2}, '
                    'OnText: func(s string) { fmt.Print(s); time.Sleep(40 * time.Millisecond) }})')
    lengths = set()
    wait(lambda: cells(d)[i]["prompt"] == "[*]:" or done(cells(d)[i]), "the generation cell to start")
    while not done(c := cells(d)[i]):
        text = "".join(o["text"] for o in c["outputs"])
        if text:
            lengths.add(len(text))
        time.sleep(0.1)
    assert len(lengths) >= 2, f"the sample did not stream: output lengths seen while running {lengths}"
    assert cells(d)[i]["outputs"] and not any("Error" in o["text"][:40] for o in cells(d)[i]["outputs"])
    shot_cell(d, i, "06-streamed.png")

    # Completion: tok. + Tab lists the tokenizer's methods.
    n = len(cells(d))
    k = edit_new_cell(d)
    type_code(d, "tok.")
    ActionChains(d).send_keys(Keys.TAB).perform()
    items = wait(lambda: js(d, "return Array.from(document.querySelectorAll('.jp-Completer:not(.lm-mod-hidden) "
                               ".jp-Completer-item .jp-Completer-match')).map(e => e.textContent)"),
                 "the completer after tok. + Tab", timeout=SHORT)
    # JupyterLab renders the completer's list lazily (the first items alphabetically), so
    # only methods early in the alphabet are certain to be in the page.
    assert {"AppendOrdinary", "Decode", "DecodeString"} <= set(items), items
    d.save_screenshot(str(SHOTS / "07-completion.png"))
    # close the completer, leave the editor, delete the half-typed cell (d d)
    ActionChains(d).send_keys(Keys.ESCAPE).send_keys(Keys.ESCAPE).send_keys("dd").perform()
    wait(lambda: len(cells(d)) == (n - 1 if k == n - 1 else n), "the completion cell to be deleted", timeout=SHORT)

    # Interrupt: the ■ button stops a running training cell at a step boundary;
    # the kernel lives and the model is usable.
    i = new_cell(d, "more, err := train.Train(model, trainL, valL, train.Options{MaxSteps: 1000000, LR: 1e-3, EvalEvery: 100000})")
    def steps_shown():
        m = [re.search(r"step (\d+)/1000000", o["text"]) for o in cells(d)[i]["outputs"]]
        return max([int(x.group(1)) for x in m if x] or [0])
    wait(lambda: steps_shown() >= 20, "the second training run to pass step 20")
    d.find_element("css selector", ".jp-NotebookPanel-toolbar [data-command='notebook:interrupt-kernel']").click()
    wait(lambda: done(cells(d)[i]), "the interrupted cell to end")
    out = "\n".join(o["text"] for o in cells(d)[i]["outputs"])
    assert "Interrupted" in out, out
    wait(lambda: "Idle" in kernel_status(d), "the kernel to be idle after the interrupt")
    j = new_cell(d, 'after, err := eval.Generate(eval.NewGPT(model), bpe, "Light is", eval.GenerateOptions{MaxTokens: 10}); '
                    'fmt.Println(more.StopReason, err, len(after.Tokens))')
    wait(lambda: done(cells(d)[j]), "the cell after the interrupt")
    out = "\n".join(o["text"] for o in cells(d)[j]["outputs"])
    assert re.fullmatch(r"interrupted after step \d+[^\n]* <nil> 10\s*", out), out
    shot_cell(d, i, "08-interrupted.png", part=".jp-Cell-outputWrapper")
    assert "Idle" in kernel_status(d)
