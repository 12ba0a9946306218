"""golem's widgets in JupyterLab, in a real browser: JupyterLab's own widget manager
(jupyterlab_widgets, from ipywidgets in requirements.txt) renders the Go kernel's
IntSlider, Button and Output; the arrow keys on the focused slider handle move it,
the Go callback runs in the kernel and its output appears in the Output widget; the
button's click does the same; a value set from Go moves the slider on the page; after
a reload the widgets come back from the running kernel.
Reuses test_lab.py's JupyterLab and chromium. Screenshots go to build/lab/.
"""

import json

import pytest

from test_lab import SHORT, SHOTS, browser, cell_el, cells, done, js, kernel_status, new_cell, serve_lab, wait  # noqa: F401

WIDGETS_CELL = '''import (
	"fmt"

	"github.com/golem-lm/golem/display/widgets"
)
out := widgets.NewOutput()
topK := widgets.NewIntSlider("top-k", 1, 100, 40)
topK.OnChange(func(k int) { out.Capture(func() { fmt.Println("callback: top-k =", k) }) })
again := widgets.NewButton("Again", widgets.ButtonStyle("primary"))
again.OnClick(func() { out.Capture(func() { fmt.Println("clicked at top-k", topK.Value()) }) })
widgets.VBox(topK, again, out)'''


@pytest.fixture(scope="module")
def widget_lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("lab-widgets")
    root = base / "root"
    root.mkdir()
    nb = {"nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "golem", "display_name": "Go (golem)", "language": "go"},
                       "language_info": {"name": "go"}},
          "cells": [{"cell_type": "code", "id": "widgets", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": WIDGETS_CELL}]}
    (root / "widgets.ipynb").write_text(json.dumps(nb))
    for url, token in serve_lab(base, root):
        yield {"url": url, "token": token, "log": base / "lab.log", "root": root}


def wait_widgets(d, lab, cond, what):
    """wait() for cond on what cell 0's widgets show; a failure tells what they
    showed and the end of the server's log (where the kernel logs)."""
    try:
        return wait(lambda: (lambda w: w if cond(w) else None)(widget_text(d, 0)), what, timeout=SHORT)
    except BaseException as e:
        raise AssertionError(f"{e}: widgets showed {widget_text(d, 0)}; lab log:\n{lab['log'].read_text()[-3000:]}")


def widget_text(d, i):
    """What the widgets of code cell i show: the readout, the Output widget's text."""
    return js(d, """
const c = arguments[0];
const t = s => Array.from(c.querySelectorAll(s)).map(e => e.textContent).join('\\n');
return {views: c.querySelectorAll('.jupyter-widgets').length,
        readout: t('.widget-readout'), output: t('.widget-output, .jupyter-widget-output'), all: t('.jp-Cell-outputWrapper')};""", cell_el(d, i))


def test_slider_moves_and_go_callback_output_shows(widget_lab, browser):
    from selenium.webdriver.common.keys import Keys
    d = browser
    d.get(f"{widget_lab['url']}/lab/tree/widgets.ipynb?token={widget_lab['token']}")
    wait(lambda: len(cells(d)) >= 1, "the notebook's cell", timeout=120)
    wait(lambda: "Idle" in kernel_status(d), "the golem kernel to start (status bar: Idle)", timeout=120)
    cell_el(d, 0).find_element("css selector", ".cm-content").click()
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(d).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
    wait(lambda: done(cells(d)[0]), "the widgets cell to run")
    # the widget view, not its text/plain fallback
    w = wait_widgets(d, widget_lab, lambda w: w["readout"].strip() == "40", "the slider rendered with readout 40")
    assert "VBox(" not in w["all"], w  # rendered by the widget manager
    d.save_screenshot(str(SHOTS / "widgets-01-rendered.png"))

    # Focus the slider's handle and press → twice: 42, each a comm_msg running the Go callback.
    handle = cell_el(d, 0).find_element("css selector", ".widget-slider .noUi-handle")
    js(d, "arguments[0].focus()", handle)
    handle.send_keys(Keys.ARROW_RIGHT)
    handle.send_keys(Keys.ARROW_RIGHT)
    w = wait_widgets(d, widget_lab, lambda w: "callback: top-k = 42" in w["output"],
                     "the Go callback's output for 42 in the Output widget")
    assert w["readout"].strip() == "42", w
    assert "callback: top-k = 41" in w["output"], w
    d.save_screenshot(str(SHOTS / "widgets-02-slider-moved.png"))

    # The button's click runs its Go callback.
    cell_el(d, 0).find_element("css selector", "button.jupyter-button").click()
    wait_widgets(d, widget_lab, lambda w: "clicked at top-k 42" in w["output"], "the button callback's output")

    # A value set from Go moves the slider on the page (and runs the callback too).
    i = new_cell(d, "topK.Set(7)")
    wait(lambda: done(cells(d)[i]), "the Set cell")
    w = wait_widgets(d, widget_lab, lambda w: w["readout"].strip() == "7", "the slider to follow Set(7)")
    assert "callback: top-k = 7" in w["output"], w
    d.save_screenshot(str(SHOTS / "widgets-03-set-from-go.png"))
    assert "Idle" in kernel_status(d)

    # Save, reload the page: the widget manager asks the running kernel for every model's
    # state (the jupyter.widget.control comm's request_states) and draws the slider at 7.
    ActionChains(d).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
    wait(lambda: "widget-view+json" in json.dumps(
        json.loads((widget_lab["root"] / "widgets.ipynb").read_text())["cells"][0]["outputs"]),
        "the notebook saved with its widget view", timeout=SHORT)
    d.refresh()
    wait(lambda: len(cells(d)) >= 1, "the notebook after the reload", timeout=120)
    w = wait_widgets(d, widget_lab, lambda w: w["readout"].strip() == "7", "the slider restored from the kernel at 7")
    assert "callback: top-k = 7" in w["output"], w
    d.save_screenshot(str(SHOTS / "widgets-04-reloaded.png"))
