"""JupyterLab's debugger panel and subshell console with the golem kernel, in
Debian's chromium driven by selenium (as tests/test_lab.py, whose helpers and
browser fixture this file uses).

- Debugger: the bug button turns the debugger on (JupyterLab enables it from the
  kernelspec's metadata), a click in the gutter sets a breakpoint in a function's
  cell, running a cell that calls the function stops there: the call stack shows
  the function and the calling cell, the variables its arguments; Continue ends
  the cell with its result.
- Subshell console: while a notebook cell trains, "New Subshell Console for
  Notebook" (command palette) opens a console on a subshell whose cell reads
  train.Current() and is answered while the notebook's cell still runs; the ■
  button then stops the training.

Screenshots go to build/lab/ (control-*.png).
"""

import json

import pytest

from test_lab import CHROMEDRIVER, CHROMIUM, LONG, ROOT, SHORT, SHOTS, browser, cell_el, cells, click_menu, done, js, kernel_status, serve_lab, wait  # noqa: F401

# The debugger test walks notebooks/debugger.ipynb's two cells (a breakpoint on line 3 of the first).
DECL, CALL = ["".join(c["source"]) for c in json.loads((ROOT / "notebooks" / "debugger.ipynb").read_text())["cells"]
              if c["cell_type"] == "code"]
SETUP = """import (
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/train"
)
toks := make([]int32, 1<<15)
for i := range toks {
	toks[i] = int32(i * 7 % 61)
}
l, _ := shard.NewSliceLoader(toks, shard.LoaderOptions{B: 4, T: 64})
m, _ := gpt.New(gpt.Config{VocabSize: 64, ContextLen: 64, Layers: 2, Heads: 2, Width: 64, Bias: true}, 1)"""
TRAIN = "res, err := train.Train(m, l, nil, train.Options{MaxSteps: 1000000})"


def notebook(path, sources):
    cell = lambda src: {"cell_type": "code", "metadata": {}, "source": src, "outputs": [], "execution_count": None}
    path.write_text(json.dumps({"cells": [cell(s) for s in sources], "nbformat": 4, "nbformat_minor": 5,
                                "metadata": {"kernelspec": {"display_name": "Go (golem)", "language": "go", "name": "golem"}}}))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("labctl")
    root = base / "root"
    root.mkdir()
    notebook(root / "debug.ipynb", [DECL, CALL])
    notebook(root / "train.ipynb", [SETUP, TRAIN])
    for url, token in serve_lab(base, root):
        yield {"url": url, "token": token}


def run_cell(d, i):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    cell_el(d, i).find_element("css selector", ".jp-InputPrompt").click()
    ActionChains(d).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()


def text_of(d, selector):
    return js(d, "const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", selector)


def open_notebook(d, lab, name):
    # a workspace of its own, reset: only this notebook's cells are on the page
    d.get(f"{lab['url']}/lab/workspaces/{name.split('.')[0]}/tree/{name}?reset&token={lab['token']}")
    wait(lambda: len(cells(d)) >= 2, f"the cells of {name}", timeout=120)
    wait(lambda: "Idle" in kernel_status(d), "the golem kernel to start (status bar: Idle)", timeout=120)


def test_debugger_panel_stops_at_breakpoint(lab, browser):
    d = browser
    open_notebook(d, lab, "debug.ipynb")
    bug = wait(lambda: [b for b in d.find_elements("css selector", ".jp-DebuggerBugButton")
                        if b.get_attribute("disabled") is None], "the debugger button to be enabled", timeout=SHORT)[0]
    bug.click()
    wait(lambda: d.find_elements("css selector", ".jp-DebuggerSidebar:not(.lm-mod-hidden)"), "the debugger sidebar",
         timeout=SHORT)
    run_cell(d, 0)
    wait(lambda: done(cells(d)[0]), "the function's cell to run")
    # the breakpoint gutter has one element per line after a spacer: line 3 is [3]
    gutter = wait(lambda: cell_el(d, 0).find_elements("css selector", ".cm-breakpoint-gutter .cm-gutterElement"),
                  "the breakpoint gutter", timeout=SHORT)
    gutter[3].click()
    wait(lambda: text_of(d, ".jp-DebuggerBreakpoints-body").strip().endswith("3"), "the breakpoint on line 3 in the panel",
         timeout=SHORT)
    run_cell(d, 1)
    stack = wait(lambda: text_of(d, ".jp-DebuggerCallstack-body").strip(), "the call stack of the stop")
    variables = wait(lambda: "word" in text_of(d, ".jp-DebuggerVariables") and text_of(d, ".jp-DebuggerVariables"),
                     "the variables of the stop", timeout=SHORT)
    d.save_screenshot(str(SHOTS / "control-debugger-stopped.png"))
    lines = stack.splitlines()
    assert lines[0] == "Shout" and lines[1].endswith(".go:3"), stack
    assert lines[2] == "cell" and lines[3].endswith(".go:2"), stack
    assert "n\n3" in variables, variables  # JupyterLab's tree shows the values of ints
    assert cells(d)[1]["prompt"] == "[*]:"
    # Continue: the button of the call stack's toolbar (command debugger:continue).
    cont = wait(lambda: [b for b in d.find_elements("css selector", "[data-command='debugger:continue']") if b.is_displayed()],
                "the Continue button", timeout=SHORT)
    cont[0].click()
    wait(lambda: done(cells(d)[1]), "the cell to end after Continue", timeout=SHORT)
    outs = cells(d)[1]["outputs"]
    assert outs and outs[-1]["text"].strip() == '"GOGOGO"', outs
    wait(lambda: not text_of(d, ".jp-DebuggerCallstack-body").strip(), "the call stack to clear", timeout=SHORT)
    d.save_screenshot(str(SHOTS / "control-debugger-continued.png"))
    bug.click()  # the debugger off again


def test_subshell_console_while_training(lab, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    d = browser
    open_notebook(d, lab, "train.ipynb")
    run_cell(d, 0)
    wait(lambda: done(cells(d)[0]), "the set-up cell")
    run_cell(d, 1)
    wait(lambda: any("step" in o["text"] for o in cells(d)[1]["outputs"]), "training to show its progress")
    # The command palette (View > Activate Command Palette): New Subshell Console for Notebook.
    ActionChains(d).send_keys(Keys.ESCAPE).perform()  # command mode, the notebook focused
    click_menu(d, "View", "Activate Command Palette")
    box = wait(lambda: [e for e in d.find_elements("css selector", ".lm-CommandPalette-input") if e.is_displayed()],
               "the command palette", timeout=SHORT)[0]
    box.send_keys("New Subshell Console for Notebook")
    item = wait(lambda: [e for e in d.find_elements("css selector", ".lm-CommandPalette-item")
                         if "Subshell Console" in e.text], "the palette item", timeout=SHORT)[0]
    item.click()
    prompt = wait(lambda: d.find_elements("css selector", ".jp-CodeConsole-promptCell .cm-content"),
                  "the subshell console", timeout=SHORT)[0]
    prompt.click()
    ActionChains(d).send_keys("train.Current().Snapshot()").perform()
    ActionChains(d).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
    try:
        out = wait(lambda: [o.text for o in d.find_elements("css selector", ".jp-CodeConsole .jp-OutputArea-output")
                            if "(running)" in o.text], "the subshell console's answer")
    finally:
        d.save_screenshot(str(SHOTS / "control-subshell-console.png"))
    assert "step" in out[0] and "loss" in out[0], out
    assert cells(d)[1]["prompt"] == "[*]:", "the notebook's training cell ended before the console answered"
    # Interrupt the training (the ■ button of the notebook).
    nb = d.find_elements("css selector", ".jp-NotebookPanel")[0]
    js(d, "arguments[0].scrollIntoView()", nb)
    d.find_element("css selector", ".jp-NotebookPanel-toolbar [data-command='notebook:interrupt-kernel']").click()
    wait(lambda: done(cells(d)[1]), "the training cell to stop after the interrupt", timeout=SHORT)
