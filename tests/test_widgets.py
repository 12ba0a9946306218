"""golem's widgets (display/widgets) against the Jupyter widget message protocol 2.1.0,
spoken by jupyter_client as JupyterLab's widget manager speaks it: comm_open on IOPub
with target jupyter.widget, the model state and metadata {version}; comm_msg update from
the client running the Go callback (its output captured by an Output widget through the
msg_id mechanism); echo_update and update back; request_state; the control comm's
request_states; comm_info_request; bad messages leaving the kernel alive.
"""

import time
import uuid

import pytest
from jupyter_client.manager import start_new_kernel

from test_kernel import TIMEOUT, collect, run, shell_reply, stream_text

SETUP = '''
import (
	"fmt"

	"github.com/golem-lm/golem/display/widgets"
)
topK := widgets.NewIntSlider("top-k", 1, 100, 40, widgets.ContinuousUpdate(false))
out := widgets.NewOutput()
calls := 0
topK.OnChange(func(k int) {
	calls++
	out.Capture(func() { fmt.Println("top-k is now", k) })
})
box := widgets.VBox(topK, out)
box
'''


@pytest.fixture(scope="module")
def widget_kernel():
    km, kc = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT)
    reply, outs = run(kc, SETUP)
    assert reply["status"] == "ok", reply
    yield kc, outs
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def opens(outs):
    return [m for m in outs if m["msg_type"] == "comm_open"]


def by_model(outs, name):
    return [m for m in opens(outs) if m["content"]["data"]["state"]["_model_name"] == name]


def send_comm(kc, comm_id, data, msg_type="comm_msg"):
    msg = kc.session.msg(msg_type, {"comm_id": comm_id, "data": data})
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"], collect(kc, msg["header"]["msg_id"])


def comm_msgs(outs, comm_id=None):
    return [m for m in outs if m["msg_type"] == "comm_msg" and (comm_id is None or m["content"]["comm_id"] == comm_id)]


def ids(widget_kernel):
    _, outs = widget_kernel
    slider = by_model(outs, "IntSliderModel")[0]["content"]["comm_id"]
    output = by_model(outs, "OutputModel")[0]["content"]["comm_id"]
    return slider, output


def test_comm_open_state_metadata_and_view(widget_kernel):
    kc, outs = widget_kernel
    names = [m["content"]["data"]["state"]["_model_name"] for m in opens(outs)]
    # every model opens after its Layout (and Style) model, the box after its children
    assert names == ["LayoutModel", "SliderStyleModel", "IntSliderModel", "LayoutModel", "OutputModel",
                     "LayoutModel", "VBoxModel"], names
    for m in opens(outs):
        c = m["content"]
        assert c["target_name"] == "jupyter.widget"
        assert m["metadata"] == {"version": "2.1.0"}
        assert c["data"]["buffer_paths"] == []
    slider = by_model(outs, "IntSliderModel")[0]
    st = slider["content"]["data"]["state"]
    layout_id, style_id = opens(outs)[0]["content"]["comm_id"], opens(outs)[1]["content"]["comm_id"]
    assert {k: st[k] for k in ("_model_module", "_model_module_version", "_view_name", "_view_module",
                               "_view_module_version", "value", "min", "max", "step", "description",
                               "continuous_update", "layout", "style")} == {
        "_model_module": "@jupyter-widgets/controls", "_model_module_version": "2.0.0",
        "_view_name": "IntSliderView", "_view_module": "@jupyter-widgets/controls", "_view_module_version": "2.0.0",
        "value": 40, "min": 1, "max": 100, "step": 1, "description": "top-k", "continuous_update": False,
        "layout": "IPY_MODEL_" + layout_id, "style": "IPY_MODEL_" + style_id}
    out = by_model(outs, "OutputModel")[0]["content"]["data"]["state"]
    assert (out["_model_module"], out["_model_module_version"], out["_view_name"], out["msg_id"]) == \
        ("@jupyter-widgets/output", "1.0.0", "OutputView", "")
    box = by_model(outs, "VBoxModel")[0]
    assert box["content"]["data"]["state"]["children"] == [
        "IPY_MODEL_" + slider["content"]["comm_id"], "IPY_MODEL_" + by_model(outs, "OutputModel")[0]["content"]["comm_id"]]
    [result] = [m for m in outs if m["msg_type"] == "execute_result"]
    data = result["content"]["data"]
    assert data["application/vnd.jupyter.widget-view+json"] == {
        "model_id": box["content"]["comm_id"], "version_major": 2, "version_minor": 0}
    assert data["text/plain"].startswith('VBox(IntSlider(value=40, min=1, max=100, description="top-k"), Output())')


def test_update_from_client_runs_callback_into_output_widget(widget_kernel):
    kc, _ = widget_kernel
    slider, output = ids(widget_kernel)
    msg_id, outs = send_comm(kc, slider, {"method": "update", "state": {"value": 7}, "buffer_paths": []})
    kinds = [(m["msg_type"], m["content"].get("comm_id"), m["content"].get("data", {}).get("method"),
              m["content"].get("data", {}).get("state")) for m in outs if m["msg_type"] == "comm_msg"]
    assert kinds == [
        ("comm_msg", slider, "echo_update", {"value": 7}),
        ("comm_msg", output, "update", {"msg_id": msg_id}),  # the Output widget captures what comes under msg_id
        ("comm_msg", output, "update", {"msg_id": ""}),
    ], kinds
    # the callback's print comes between the two msg_id updates, under the comm_msg
    types = [m["msg_type"] for m in outs]
    first, last = types.index("comm_msg", types.index("comm_msg") + 1), len(types) - 1 - types[::-1].index("comm_msg")
    assert "stream" in types[first:last], types
    assert stream_text(outs) == "top-k is now 7\n"
    assert all(m["parent_header"]["msg_id"] == msg_id for m in outs)
    reply, outs = run(kc, "fmt.Println(topK.Value(), calls)")
    assert stream_text(outs) == "7 1\n"


def test_set_from_go_sends_update(widget_kernel):
    kc, _ = widget_kernel
    slider, _ = ids(widget_kernel)
    reply, outs = run(kc, "topK.Set(5)")
    assert reply["status"] == "ok"
    updates = [m["content"]["data"] for m in comm_msgs(outs, slider)]
    assert updates == [{"method": "update", "state": {"value": 5}, "buffer_paths": []}]
    assert stream_text(outs) == "top-k is now 5\n"  # OnChange runs for a change from Go too


def test_request_state_and_control_comm(widget_kernel):
    kc, _ = widget_kernel
    slider, _ = ids(widget_kernel)
    _, outs = send_comm(kc, slider, {"method": "request_state"})
    [m] = comm_msgs(outs, slider)
    assert m["content"]["data"]["method"] == "update"
    assert m["content"]["data"]["state"]["_model_name"] == "IntSliderModel"
    assert m["content"]["data"]["state"]["value"] == 5
    # JupyterLab's manager, on a page reload: open jupyter.widget.control, ask request_states
    ctl = uuid.uuid4().hex
    msg = kc.session.msg("comm_open", {"comm_id": ctl, "target_name": "jupyter.widget.control", "data": {}},
                         metadata={"version": "2.1.0"})
    kc.shell_channel.send(msg)
    assert [m["msg_type"] for m in collect(kc, msg["header"]["msg_id"])] == []  # accepted: no comm_close
    _, outs = send_comm(kc, ctl, {"method": "request_states"})
    [m] = comm_msgs(outs, ctl)
    states = m["content"]["data"]["states"]
    assert m["content"]["data"]["method"] == "update_states"
    assert states[slider]["model_name"] == "IntSliderModel"
    assert states[slider]["model_module"] == "@jupyter-widgets/controls"
    assert states[slider]["state"]["value"] == 5
    _, outs = send_comm(kc, ctl, {}, msg_type="comm_close")
    reply = shell_reply(kc, kc.comm_info(target_name="jupyter.widget.control"))["content"]
    assert reply == {"status": "ok", "comms": {}}


def test_comm_info_lists_the_widgets(widget_kernel):
    kc, outs = widget_kernel
    want = {m["content"]["comm_id"]: {"target_name": "jupyter.widget"} for m in opens(outs)}
    reply = shell_reply(kc, kc.comm_info(target_name="jupyter.widget"))["content"]
    assert reply["status"] == "ok"
    assert {k: v for k, v in reply["comms"].items() if k in want} == want
    assert shell_reply(kc, kc.comm_info(target_name="no.such.target"))["content"]["comms"] == {}


@pytest.mark.parametrize("comm,data,err", [
    ("unknown", {"method": "update", "state": {"value": 3}}, "unknown comm"),
    ("slider", {"method": "update", "state": {"value": "seven"}}, "bad value from the front end"),
    ("slider", {"method": "update", "state": {"value": 2.5}}, "is not an integer"),
    ("slider", {"method": "update", "state": {"_model_name": "Evil"}}, 'may not set "_model_name"'),
    ("slider", {"method": "explode"}, "unknown widget message method"),
    ("slider", "not an object", "bad comm_msg content"),
])
def test_bad_comm_msg_leaves_kernel_alive(widget_kernel, comm, data, err):
    kc, _ = widget_kernel
    slider, _ = ids(widget_kernel)
    comm_id = slider if comm == "slider" else uuid.uuid4().hex
    _, outs = send_comm(kc, comm_id, data)
    assert err in stream_text(outs, "stderr"), outs
    if comm == "slider" and isinstance(data, dict) and "state" in data:
        # the client is told the value the kernel kept
        assert [m["content"]["data"] for m in comm_msgs(outs, slider)] == [
            {"method": "update", "state": {k: {"value": 5, "_model_name": "IntSliderModel"}[k] for k in data["state"]},
             "buffer_paths": []}]
    reply, outs = run(kc, "fmt.Println(topK.Value(), calls)")
    assert reply["status"] == "ok" and stream_text(outs) == "5 2\n"


def test_callback_panic_is_reported_and_kernel_lives(widget_kernel):
    kc, _ = widget_kernel
    reply, outs = run(kc, 'b := widgets.NewButton("boom")\nb.OnClick(func() { panic("kaboom") })\nb')
    assert reply["status"] == "ok", reply
    button = by_model(outs, "ButtonModel")[0]["content"]["comm_id"]
    _, outs = send_comm(kc, button, {"method": "custom", "content": {"event": "click"}})
    assert "panic in comm handler: kaboom" in stream_text(outs, "stderr")
    reply, outs = run(kc, '1 + 1')
    assert reply["status"] == "ok"


def test_callback_runs_after_the_running_cell(widget_kernel):
    """A comm_msg sent while a cell runs waits for it: callbacks never run beside a cell."""
    kc, _ = widget_kernel
    slider, _ = ids(widget_kernel)
    run(kc, 'var inCell bool\nvar sawCell []bool')
    reply, _ = run(kc, 'topK.OnChange(func(int) { sawCell = append(sawCell, inCell) })')
    assert reply["status"] == "ok", reply
    run(kc, 'import "time"')
    cell = kc.execute('inCell = true\ntime.Sleep(300 * time.Millisecond)\ninCell = false')
    msg = kc.session.msg("comm_msg", {"comm_id": slider, "data": {"method": "update", "state": {"value": 9}}})
    kc.shell_channel.send(msg)
    assert shell_reply(kc, cell)["content"]["status"] == "ok"
    collect(kc, msg["header"]["msg_id"])
    reply, outs = run(kc, "fmt.Println(sawCell)")
    assert stream_text(outs) == "[false]\n"
