"""Kernel subshells (JEP 91) with jupyter_client sending the real messages.

create/list/delete_subshell_request on control; execute_request with
"subshell_id" in the header runs on the subshell while the main shell is busy
training, and is answered first; an unknown subshell_id is an error reply and
the kernel lives on.
"""

import pytest
from jupyter_client.manager import start_new_kernel

TIMEOUT = 60

SETUP = """import (
	"fmt"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/train"
)
m, _ := gpt.New(gpt.Config{VocabSize: 64, ContextLen: 64, Layers: 2, Heads: 2, Width: 64, Bias: true}, 1)
toks := make([]int32, 1<<15)
for i := range toks {
	toks[i] = int32(i * 7 % 61)
}
l, _ := shard.NewSliceLoader(toks, shard.LoaderOptions{B: 4, T: 64})
own, _ := shard.NewSliceLoader(toks, shard.LoaderOptions{B: 4, T: 64})"""


@pytest.fixture(scope="module")
def kernel():
    km, kc = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT)
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def control(kc, msg_type, content=None):
    msg = kc.session.msg(msg_type, content or {})
    kc.control_channel.send(msg)
    while True:
        reply = kc.get_control_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply


def send_shell(kc, msg_type, content, subshell_id=None):
    msg = kc.session.msg(msg_type, content)
    if subshell_id is not None:
        msg["header"]["subshell_id"] = subshell_id
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def execute(kc, code, subshell_id=None):
    return send_shell(kc, "execute_request", {"code": code, "silent": False, "store_history": True,
                                              "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}, subshell_id)


def shell_reply(kc, msg_id, others=None):
    while True:
        msg = kc.get_shell_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg
        if others is not None:
            others.append(msg)


def result_of(kc, msg_id):
    """The execute_result data of msg_id, from IOPub (None when there is none)."""
    data = None
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_result":
            data = msg["content"]["data"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return data


def test_kernel_info_advertises_subshells(kernel):
    _, kc = kernel
    kc.kernel_info()
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    assert "kernel subshells" in reply["content"].get("supported_features", []), reply["content"]


def test_subshell_answers_while_main_shell_trains(kernel):
    km, kc = kernel
    mid = execute(kc, SETUP)
    assert shell_reply(kc, mid)["content"]["status"] == "ok"

    created = control(kc, "create_subshell_request")
    assert created["msg_type"] == "create_subshell_reply"
    assert created["content"]["status"] == "ok", created["content"]
    sid = created["content"]["subshell_id"]
    listed = control(kc, "list_subshell_request")
    assert listed["content"] == {"status": "ok", "subshell_id": [sid]}

    # The main shell trains until interrupted.
    main = execute(kc, 'res, err := train.Train(m, l, nil, train.Options{MaxSteps: 1000000})\nfmt.Println("stopped:", res.StopReason, err)')
    # Wait until training shows progress, so the main shell is surely busy.
    updates = 0
    while updates < 2:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") == main and msg["msg_type"] == "update_display_data":
            updates += 1

    # A new connection's kernel_info (JupyterLab's subshell console asks before it
    # creates its subshell) is answered while the main shell is busy.
    info = kc.kernel_info()
    others = []
    reply = shell_reply(kc, info, others)
    assert reply["content"]["status"] == "ok" and not others, others

    # The subshell reads the live progress and evaluates the model between steps.
    sub = execute(kc, "p := train.Current()\ns := p.Snapshot()\nfmt.Sprint(s.Running, s.Step > 0, len(s.History) == s.Step)", sid)
    others = []
    reply = shell_reply(kc, sub, others)
    assert not any(o["parent_header"].get("msg_id") == main for o in others), "the main shell answered before the subshell"
    assert reply["content"]["status"] == "ok", reply["content"]
    assert reply["parent_header"].get("subshell_id") == sid
    assert result_of(kc, sub)["text/plain"] == '"true true true"'

    ev = execute(kc, """var vl float32
err := p.WithModel(func(m *gpt.Model) error {
	var e error
	vl, e = train.Evaluate(m, own, 1)
	return e
})
fmt.Sprint(err == nil, vl > 0, vl < 10)""", sid)
    reply = shell_reply(kc, ev, others)
    assert reply["content"]["status"] == "ok", reply["content"]
    assert result_of(kc, ev)["text/plain"] == '"true true true"'

    chart = execute(kc, "p.Chart()", sid)
    assert shell_reply(kc, chart, others)["content"]["status"] == "ok"
    assert "application/vnd.vegalite.v5+json" in result_of(kc, chart)

    # A subshell's error is its own: the main shell goes on training.
    bad = execute(kc, "undefinedThing + 1", sid)
    reply = shell_reply(kc, bad, others)
    assert reply["content"]["status"] == "error" and "undefinedThing" in reply["content"]["evalue"], reply["content"]
    assert not any(o["parent_header"].get("msg_id") == main for o in others), "the main shell ended early"

    km.interrupt_kernel()
    reply = shell_reply(kc, main)["content"]
    assert reply["status"] == "error" and reply["ename"] == "Interrupted", reply

    # The main shell sees what the subshell defined.
    after = execute(kc, "s.Step > 0 && vl > 0")
    assert shell_reply(kc, after)["content"]["status"] == "ok"
    assert result_of(kc, after)["text/plain"] == "true"

    deleted = control(kc, "delete_subshell_request", {"subshell_id": sid})
    assert deleted["msg_type"] == "delete_subshell_reply" and deleted["content"]["status"] == "ok", deleted["content"]
    assert control(kc, "list_subshell_request")["content"]["subshell_id"] == []
    again = control(kc, "delete_subshell_request", {"subshell_id": sid})["content"]
    assert again["status"] == "error" and sid in again["evalue"], again
    gone = execute(kc, "1 + 1", sid)
    reply = shell_reply(kc, gone)["content"]
    assert reply["status"] == "error" and reply["ename"] == "SubshellNotFound", reply


def test_unknown_subshell_is_an_error_and_kernel_lives(kernel):
    _, kc = kernel
    for sid in ("no-such-subshell", ""):
        mid = execute(kc, "40 + 2", sid if sid else "no-such")
        reply = shell_reply(kc, mid)
        assert reply["msg_type"] == "execute_reply"
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "SubshellNotFound", reply["content"]
    mid = send_shell(kc, "complete_request", {"code": "fmt.Pr", "cursor_pos": 6}, "nope")
    reply = shell_reply(kc, mid)
    assert reply["msg_type"] == "complete_reply" and reply["content"]["status"] == "error"
    bad = control(kc, "delete_subshell_request", {})["content"]
    assert bad["status"] == "error" and "subshell_id" in bad["evalue"], bad
    bad = control(kc, "delete_subshell_request", {"subshell_id": 7})["content"]
    assert bad["status"] == "error", bad
    mid = execute(kc, "40 + 2")
    assert shell_reply(kc, mid)["content"]["status"] == "ok"
    assert result_of(kc, mid)["text/plain"] == "42"


def test_subshells_run_one_request_at_a_time_in_order(kernel):
    _, kc = kernel
    sid = control(kc, "create_subshell_request")["content"]["subshell_id"]
    other = control(kc, "create_subshell_request")["content"]["subshell_id"]
    assert sid != other
    assert control(kc, "list_subshell_request")["content"]["subshell_id"] == [sid, other]
    ids = [execute(kc, f"order{i} := {i}\norder{i}", sid) for i in range(5)]
    got = []
    while len(got) < 5:
        msg = kc.get_shell_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") in ids:
            got.append(msg["parent_header"]["msg_id"])
            assert msg["content"]["status"] == "ok", msg["content"]
    assert got == ids
    for s in (sid, other):
        assert control(kc, "delete_subshell_request", {"subshell_id": s})["content"]["status"] == "ok"


def test_comm_messages_stay_on_the_main_shell(kernel):
    """JupyterLab sends comm messages over a subshell per comm target; golem
    serves them on the main shell (between cells), even for a subshell_id it
    does not know, so a widget callback never runs beside a cell."""
    _, kc = kernel
    mid = send_shell(kc, "comm_info_request", {}, "a-comm-target-subshell")
    reply = shell_reply(kc, mid)
    assert reply["msg_type"] == "comm_info_reply" and reply["content"]["status"] == "ok", reply
    assert reply["parent_header"]["subshell_id"] == "a-comm-target-subshell"


def test_malformed_subshell_requests(kernel):
    """A subshell_id that is not a string, and create/list on the shell channel,
    are error replies naming what is wrong; the kernel lives on."""
    _, kc = kernel
    mid = send_shell(kc, "execute_request", {"code": "1", "silent": False}, 5)
    reply = shell_reply(kc, mid)["content"]
    assert reply["status"] == "error" and "subshell_id" in reply["evalue"], reply
    for t in ("create_subshell_request", "list_subshell_request", "delete_subshell_request"):
        mid = send_shell(kc, t, {})
        reply = shell_reply(kc, mid)
        assert reply["msg_type"] == t.replace("_request", "_reply"), reply
        assert reply["content"]["status"] == "error" and "control channel" in reply["content"]["evalue"], reply["content"]
    mid = execute(kc, "6 * 7")
    assert shell_reply(kc, mid)["content"]["status"] == "ok"
    assert result_of(kc, mid)["text/plain"] == "42"
