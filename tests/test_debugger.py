"""The debugger (JEP 47) with jupyter_client replaying what JupyterLab's
debugger panel sends: initialize, attach, debugInfo, dumpCell, setBreakpoints,
configurationDone, then a cell that calls a function of an earlier cell stops at
the breakpoint (debug_event "stopped" on IOPub); stackTrace, scopes, variables
and richInspectVariables show the function's values; next moves one line;
continue finishes the cell and its execute_reply arrives."""

import pytest
from jupyter_client.manager import start_new_kernel

TIMEOUT = 60

DECL = """import "strings"
func Shout(word string, n int) string {
	up := strings.ToUpper(word)
	out := strings.Repeat(up, n)
	return out
}"""
CALL = 'greeting := "go"\nShout(greeting, 3)'


@pytest.fixture(scope="module")
def kernel():
    km, kc = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT)
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


class DAP:
    def __init__(self, kc):
        self.kc, self.seq = kc, 0

    def request(self, command, arguments=None, ok=True):
        self.seq += 1
        msg = self.kc.session.msg("debug_request", {"type": "request", "seq": self.seq, "command": command, "arguments": arguments or {}})
        self.kc.control_channel.send(msg)
        while True:
            reply = self.kc.get_control_msg(timeout=TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                break
        assert reply["msg_type"] == "debug_reply"
        c = reply["content"]
        assert c["type"] == "response" and c["request_seq"] == self.seq and c["command"] == command, c
        if ok:
            assert c["success"], c
        return c


def wait_event(kc, event):
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["msg_type"] == "debug_event" and msg["content"]["event"] == event:
            return msg["content"]


def execute(kc, code):
    return kc.execute(code)


def reply_of(kc, msg_id):
    while True:
        msg = kc.get_shell_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]


def test_kernel_info_says_debugger(kernel):
    _, kc = kernel
    kc.kernel_info()
    assert kc.get_shell_msg(timeout=TIMEOUT)["content"]["debugger"] is True


def test_breakpoint_stack_variables_continue(kernel):
    _, kc = kernel
    dap = DAP(kc)
    init = dap.request("initialize", {"clientID": "jupyterlab", "clientName": "JupyterLab", "adapterID": "go", "pathFormat": "path",
                                      "linesStartAt1": True, "columnsStartAt1": True, "supportsVariableType": True,
                                      "supportsVariablePaging": True, "supportsRunInTerminalRequest": True, "locale": "en"})
    assert init["body"]["supportsConfigurationDoneRequest"] is True
    dap.request("attach", {})
    info = dap.request("debugInfo")["body"]
    assert info["isStarted"] is True and info["hashMethod"] == "Murmur2" and info["tmpFileSuffix"] == ".go", info
    assert info["stoppedThreads"] == []

    # The cell that declares the function runs first (as a notebook's would).
    assert reply_of(kc, execute(kc, DECL))["status"] == "ok"
    dumped = dap.request("dumpCell", {"code": DECL})["body"]["sourcePath"]
    assert dumped.startswith(info["tmpFilePrefix"]) and dumped.endswith(".go")
    with open(dumped) as f:
        assert f.read() == DECL
    assert dap.request("source", {"source": {"path": dumped}})["body"]["content"] == DECL
    bps = dap.request("setBreakpoints", {"source": {"path": dumped}, "breakpoints": [{"line": 3}], "lines": [3], "sourceModified": False})
    assert bps["body"]["breakpoints"][0]["verified"] is True and bps["body"]["breakpoints"][0]["line"] == 3
    dap.request("configurationDone")
    info = dap.request("debugInfo")["body"]
    assert info["breakpoints"] == [{"source": dumped, "breakpoints": [{"line": 3}]}], info

    call_path = dap.request("dumpCell", {"code": CALL})["body"]["sourcePath"]
    mid = execute(kc, CALL)
    stopped = wait_event(kc, "stopped")
    assert stopped["body"]["reason"] == "breakpoint", stopped
    thread = stopped["body"]["threadId"]
    assert dap.request("debugInfo")["body"]["stoppedThreads"] == [thread]
    frames = dap.request("stackTrace", {"threadId": thread})["body"]["stackFrames"]
    assert [(f["name"], f["line"], f["source"]["path"]) for f in frames] == [("Shout", 3, dumped), ("cell", 2, call_path)], frames

    scopes = dap.request("scopes", {"frameId": frames[0]["id"]})["body"]["scopes"]
    assert [s["name"] for s in scopes] == ["Locals", "Globals"]
    local = {v["name"]: v for v in dap.request("variables", {"variablesReference": scopes[0]["variablesReference"]})["body"]["variables"]}
    assert local["word"]["value"] == '"go"' and local["word"]["type"] == "string", local
    assert local["n"]["value"] == "3" and local["n"]["type"] == "int", local
    glob = {v["name"]: v for v in dap.request("variables", {"variablesReference": scopes[1]["variablesReference"]})["body"]["variables"]}
    assert glob["greeting"]["value"] == '"go"', glob
    rich = dap.request("richInspectVariables", {"variableName": "word", "frameId": frames[0]["id"]})["body"]
    assert rich["data"]["text/plain"] == '"go"', rich

    dap.request("next", {"threadId": thread})
    stopped = wait_event(kc, "stopped")
    assert stopped["body"]["reason"] == "step"
    frames = dap.request("stackTrace", {"threadId": thread})["body"]["stackFrames"]
    assert frames[0]["line"] == 4, frames
    scopes = dap.request("scopes", {"frameId": frames[0]["id"]})["body"]["scopes"]
    local = {v["name"]: v["value"] for v in dap.request("variables", {"variablesReference": scopes[0]["variablesReference"]})["body"]["variables"]}
    assert local["up"] == '"GO"', local

    dap.request("continue", {"threadId": thread})
    reply = reply_of(kc, mid)
    assert reply["status"] == "ok", reply
    result = None
    while result is None:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") == mid and msg["msg_type"] == "execute_result":
            result = msg["content"]["data"]["text/plain"]
    assert result == '"GOGOGO"'

    names = {v["name"] for v in dap.request("inspectVariables")["body"]["variables"]}
    assert "greeting" in names, names

    # Breakpoints cleared: the same call runs through.
    dap.request("setBreakpoints", {"source": {"path": dumped}, "breakpoints": [], "lines": [], "sourceModified": False})
    assert reply_of(kc, execute(kc, 'Shout("a", 2)'))["status"] == "ok"
    dap.request("disconnect", {"restart": False, "terminateDebuggee": True})
    assert dap.request("debugInfo")["body"]["isStarted"] is False


def test_bad_debug_requests_are_errors_and_kernel_lives(kernel):
    _, kc = kernel
    dap = DAP(kc)
    dap.request("attach")
    for command, args, words in [
        ("stackTrace", {"threadId": 1}, "no cell is stopped"),
        ("continue", {"threadId": 1}, "no cell is stopped"),
        ("dumpCell", {}, "arguments.code"),
        ("source", {"source": {"path": "/etc/passwd"}}, "not a cell file"),
        ("setBreakpoints", {"breakpoints": [{"line": 1}]}, "source.path"),
        ("noSuchCommand", {}, "noSuchCommand"),
        ("scopes", [1, 2], "arguments of scopes"),
    ]:
        c = dap.request(command, args, ok=False)
        assert c["success"] is False and words in c["message"], (command, c)
    dap.request("disconnect")
    assert reply_of(kc, execute(kc, "40 + 2"))["status"] == "ok"


def test_interrupt_while_stopped_and_errors_under_the_debugger(kernel):
    """A cell stopped at a breakpoint ends with Interrupted on an interrupt; a
    panic and a compile error under the debugger are ordinary cell errors; the
    kernel lives on."""
    km, kc = kernel
    dap = DAP(kc)
    dap.request("attach")
    decl = "func Loop(n int) int {\n\ts := 0\n\tfor i := 0; i < n; i++ {\n\t\ts += i\n\t}\n\treturn s\n}"
    assert reply_of(kc, execute(kc, decl))["status"] == "ok"
    path = dap.request("dumpCell", {"code": decl})["body"]["sourcePath"]
    dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": [{"line": 4}]})
    dap.request("configurationDone")
    mid = execute(kc, "Loop(10)")
    stopped = wait_event(kc, "stopped")
    frames = dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]})["body"]["stackFrames"]
    assert frames[0]["name"] == "Loop" and frames[0]["line"] == 4, frames
    km.interrupt_kernel()
    reply = reply_of(kc, mid)
    assert reply["status"] == "error" and reply["ename"] == "Interrupted", reply
    dap.request("setBreakpoints", {"source": {"path": path}, "breakpoints": []})
    reply = reply_of(kc, execute(kc, "var xs []int\nxs[3]"))
    assert reply["status"] == "error" and "index out of range" in reply["evalue"], reply
    reply = reply_of(kc, execute(kc, "undefinedName + 1"))
    assert reply["status"] == "error" and "undefinedName" in reply["evalue"], reply
    mid = execute(kc, "Loop(10)")
    assert reply_of(kc, mid)["status"] == "ok"
    dap.request("disconnect")
    assert reply_of(kc, execute(kc, "Loop(4)"))["status"] == "ok"


def test_quickstart_runs_with_the_debugger_attached(tmp_path):
    """Every code cell of notebooks/quickstart.ipynb (a short run) runs with the
    debugger attached, as in JupyterLab with the bug button on: imports across
    cells, rewritten Go, training and generation all work under yaegi's debugger."""
    import json
    import pathlib
    nb = json.loads((pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb").read_text())
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    params = [i for i, c in enumerate([c for c in nb["cells"] if c["cell_type"] == "code"]) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    sources[params[0]] = f'trainSteps := 30\nvocabSize := 400\nrecipe := "gpt2"\noutDir := {json.dumps(str(tmp_path / "out"))}'
    km, kc = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT, cwd=str(pathlib.Path(__file__).resolve().parent.parent / "notebooks"))
    try:
        dap = DAP(kc)
        dap.request("initialize", {"clientID": "jupyterlab", "adapterID": "go"})
        dap.request("attach")
        dap.request("configurationDone")
        for i, src in enumerate(sources):
            dap.request("dumpCell", {"code": src})
            reply = None
            mid = kc.execute(src)
            while reply is None:
                msg = kc.get_shell_msg(timeout=120)
                if msg["parent_header"].get("msg_id") == mid:
                    reply = msg["content"]
            assert reply["status"] == "ok", (i, src[:200], reply)
        names = {v["name"] for v in dap.request("inspectVariables")["body"]["variables"]}
        assert {"tok", "model", "trainSteps"} <= names, names
        dap.request("disconnect")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
