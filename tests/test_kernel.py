"""The golem kernel against the official jupyter_kernel_test suite and jupyter_client.

The kernelspec comes from conftest.py (`golem install --prefix` into a private
JUPYTER_PATH). Each test talks to a real `golem kernel` process over ZeroMQ.
"""

import json
import os
import pathlib
import struct
import subprocess
import time
import uuid
from queue import Empty

import jupyter_kernel_test
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session

TIMEOUT = 30


class GolemKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "golem"
    language_name = "go"
    file_extension = ".go"

    code_hello_world = 'import "fmt"\nfmt.Println("hello, world")'
    code_stderr = 'import "os"\nos.Stderr.Write([]byte("to stderr\\n"))'

    completion_samples = [
        {"text": "fmt.Pri", "matches": {"Print", "Printf", "Println"}},
        {"text": "strings.HasPre", "matches": {"HasPrefix"}},
    ]
    complete_code_samples = ["x := 1", 'fmt.Println("hi")', "func f() int { return 1 }", "type P struct{ A int }"]
    incomplete_code_samples = ["func f() {", "for i := 0; i < 3; i++ {", "xs := []int{1,", "s := `raw"]
    invalid_code_samples = ["x := )", "func {}", "}"]

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"go" + "lem"', "result": '"golem"'},
        {"code": "1.5 * 2", "result": "3"},
    ]
    code_display_data = [
        {"code": 'display.HTML("<b>bold</b>")', "mime": "text/html"},
        {"code": 'display.Markdown("# title")', "mime": "text/markdown"},
        {"code": 'display.SVG("<svg xmlns=\\"http://www.w3.org/2000/svg\\"></svg>")', "mime": "image/svg+xml"},
    ]
    code_history_pattern = "6 ? 7"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "fmt.Println"
    code_page_something = "fmt.Println?"
    code_clear_output = "display.ClearOutput()"
    code_generate_error = 'panic("boom")'


class GolemIopubWelcomeTests(jupyter_kernel_test.IopubWelcomeTests):
    kernel_name = "golem"
    support_iopub_welcome = True


# ---------------------------------------------------------------------------
# Our own protocol tests.


# Imports every test below relies on, run once in the shared kernel.
IMPORTS = 'import (\n\t"fmt"\n\t"os"\n\t"time"\n)'


@pytest.fixture(scope="module")
def kernel():
    km, kc = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT)
    reply, _ = run(kc, IMPORTS)
    assert reply["status"] == "ok", reply
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def collect(kc, msg_id, timeout=TIMEOUT):
    """IOPub messages of msg_id (without status/execute_input) up to idle."""
    outs = []
    deadline = time.time() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        t = msg["msg_type"]
        if t == "status" and msg["content"]["execution_state"] == "idle":
            return outs
        if t not in ("status", "execute_input"):
            outs.append(msg)


def shell_reply(kc, msg_id, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(0.1, deadline - time.time()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def run(kc, code, **kw):
    msg_id = kc.execute(code, **kw)
    reply = shell_reply(kc, msg_id)
    return reply["content"], collect(kc, msg_id)


def stream_text(outs, name="stdout"):
    return "".join(m["content"]["text"] for m in outs if m["msg_type"] == "stream" and m["content"]["name"] == name)


def test_bad_signature_is_dropped(kernel, tmp_path):
    km, kc = kernel
    marker = tmp_path / "forged-ran"
    forged = Session(key=b"not-the-kernel-key", signature_scheme="hmac-sha256")
    code = f'os.WriteFile({json.dumps(str(marker))}, []byte("x"), 0o644)'
    msg = forged.msg("execute_request", content={"code": code, "silent": False, "store_history": True,
                                                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
    forged.send(kc.shell_channel.socket, msg)
    # Nothing answers the forged message: no reply, no status on IOPub.
    with pytest.raises(Empty):
        shell_reply(kc, msg["header"]["msg_id"], timeout=1.5)
    # The kernel lives and the forged code never ran.
    reply, outs = run(kc, "1 + 1")
    assert reply["status"] == "ok"
    assert outs[0]["content"]["data"]["text/plain"] == "2"
    assert not marker.exists()
    assert km.is_alive()


def test_interrupt_busy_loop(kernel):
    km, kc = kernel
    msg_id = kc.execute("for {}")
    # Wait until the cell is running (busy status), then interrupt (message mode).
    while True:
        m = kc.get_iopub_msg(timeout=TIMEOUT)
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "execute_input":
            break
    km.interrupt_kernel()
    reply = shell_reply(kc, msg_id)["content"]
    assert reply["status"] == "error"
    assert reply["ename"] == "Interrupted"
    outs = collect(kc, msg_id)
    assert [m["msg_type"] for m in outs] == ["error"]
    reply, outs = run(kc, "x := 21\nx * 2")
    assert reply["status"] == "ok"
    assert outs[-1]["content"]["data"]["text/plain"] == "42"


def test_interrupt_training(kernel):
    """Jupyter's interrupt stops train.Train at a step boundary; the model keeps its
    trained weights and the session (func literals included) stays usable."""
    km, kc = kernel
    setup = """import (
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/train"
)
m, _ := gpt.New(gpt.Config{VocabSize: 64, ContextLen: 64, Layers: 2, Heads: 2, Width: 128, Bias: true}, 1)
toks := make([]int32, 1<<15)
for i := range toks {
	toks[i] = int32(i * 7 % 61)
}
l, _ := shard.NewSliceLoader(toks, shard.LoaderOptions{B: 8, T: 64})
first := func() float32 { return m.Params[0] }
w0 := first()"""
    reply, _ = run(kc, setup)
    assert reply["status"] == "ok", reply
    msg_id = kc.execute('res, err := train.Train(m, l, nil, train.Options{MaxSteps: 1000000})\nfmt.Println("stopped:", res.StopReason, err)')
    # Interrupt once training has shown live progress.
    seen = []
    while True:
        m = kc.get_iopub_msg(timeout=TIMEOUT)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        seen.append(m["msg_type"])
        if m["msg_type"] in ("display_data", "update_display_data") and seen.count("update_display_data") >= 2:
            break
    km.interrupt_kernel()
    reply = shell_reply(kc, msg_id)["content"]
    assert reply["status"] == "error" and reply["ename"] == "Interrupted", reply
    assert not any("func literals" in line for line in reply["traceback"]), reply["traceback"]
    text = stream_text(collect(kc, msg_id))
    assert "stopped: interrupted after step" in text, text
    reply, outs = run(kc, "w0 != first()")
    assert reply["status"] == "ok", reply
    assert outs[-1]["content"]["data"]["text/plain"] == "true"


def test_stdin_round_trip(kernel):
    km, kc = kernel
    code = 'var name string\nfmt.Scanln(&name)\nfmt.Println("hello,", name)'
    msg_id = kc.execute(code, allow_stdin=True)
    req = kc.get_stdin_msg(timeout=TIMEOUT)
    assert req["msg_type"] == "input_request"
    assert req["parent_header"]["msg_id"] == msg_id
    kc.input("gopher")
    reply = shell_reply(kc, msg_id)["content"]
    assert reply["status"] == "ok", reply
    assert stream_text(collect(kc, msg_id)) == "hello, gopher\n"


def test_stdin_not_allowed_is_eof(kernel):
    km, kc = kernel
    code = 'var s string\n_, err := fmt.Scanln(&s)\nfmt.Println("err:", err)'
    reply, outs = run(kc, code, allow_stdin=False)
    assert reply["status"] == "ok", reply
    assert stream_text(outs) == "err: EOF\n"


def test_goroutine_panic_is_one_error(kernel):
    km, kc = kernel
    code = 'go func() { panic("in goroutine") }()\ntime.Sleep(200 * time.Millisecond)'
    reply, outs = run(kc, code)
    assert reply["status"] == "error"
    errors = [m for m in outs if m["msg_type"] == "error"]
    assert len(errors) == 1, outs
    assert "in goroutine" in errors[0]["content"]["evalue"] + "".join(errors[0]["content"]["traceback"])
    assert km.is_alive()
    reply, _ = run(kc, "1")
    assert reply["status"] == "ok"


def test_redefinition(kernel):
    km, kc = kernel
    for code in ["v := 1", 'v := "now a string"', "func f() int { return 1 }", "func f() string { return \"two\" }"]:
        reply, _ = run(kc, code)
        assert reply["status"] == "ok", (code, reply)
    reply, outs = run(kc, 'v + " " + f()')
    assert reply["status"] == "ok", reply
    assert outs[-1]["content"]["data"]["text/plain"] == '"now a string two"'


def test_whole_program(kernel):
    km, kc = kernel
    code = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("from main")\n}\n'
    reply, outs = run(kc, code)
    assert reply["status"] == "ok", reply
    assert stream_text(outs) == "from main\n"


def test_output_streams_while_cell_runs(kernel, tmp_path):
    """The first line reaches the client while the cell still waits for the test
    to create a file: without streaming, the cell would never finish."""
    km, kc = kernel
    go_ahead = tmp_path / "go-ahead"
    reply, _ = run(kc, 'func exists(p string) bool {\n\t_, err := os.Stat(p)\n\treturn err == nil\n}')
    assert reply["status"] == "ok", reply
    code = (
        'fmt.Println("first")\n'
        f'for !exists({json.dumps(str(go_ahead))}) {{\n\ttime.Sleep(10 * time.Millisecond)\n}}\n'
        'fmt.Println("second")'
    )
    msg_id = kc.execute(code)
    while True:
        m = kc.get_iopub_msg(timeout=TIMEOUT)
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "stream":
            assert m["content"]["text"] == "first\n"
            break
    with pytest.raises(Empty):
        shell_reply(kc, msg_id, timeout=0.2)  # still running
    go_ahead.write_text("go")
    reply = shell_reply(kc, msg_id)["content"]
    assert reply["status"] == "ok"
    assert stream_text(collect(kc, msg_id)) == "second\n"


def test_fd_level_output_streams(kernel):
    """Writes to the real file descriptors (compiled code, child processes) reach the
    notebook, and arrive before the execute_reply."""
    km, kc = kernel
    # Files on descriptors 1 and 2 themselves, not the interpreter's os.Stdout
    # (package-level, so no finalizer ever closes them).
    run(kc, 'var fd1, fd2 = os.NewFile(1, "fd1"), os.NewFile(2, "fd2")')
    reply, outs = run(kc, 'fd1.Write([]byte("fd one\\n"))\nfd2.Write([]byte("fd two\\n"))')
    assert reply["status"] == "ok", reply
    assert stream_text(outs) == "fd one\n"
    assert stream_text(outs, "stderr") == "fd two\n"
    reply, outs = run(kc, "!echo from a child process")
    assert reply["status"] == "ok", reply
    assert stream_text(outs) == "from a child process\n"


def test_update_display(kernel):
    km, kc = kernel
    code = 'h := display.NewHandle()\nh.Text("step 1")\nh.Text("step 2")'
    reply, outs = run(kc, code)
    assert reply["status"] == "ok", reply
    assert [m["msg_type"] for m in outs] == ["display_data", "update_display_data"]
    ids = {m["content"]["transient"]["display_id"] for m in outs}
    assert len(ids) == 1
    assert outs[1]["content"]["data"]["text/plain"] == "step 2"


def test_stop_on_error_aborts_queue(kernel):
    """Executes queued behind a failing cell are aborted (the cell waits for input,
    so the queue is filled before it fails)."""
    km, kc = kernel
    first = kc.execute('var line string\nfmt.Scanln(&line)\npanic("stop " + line)', allow_stdin=True)
    queued = [kc.execute("1"), kc.execute("2")]
    assert kc.get_stdin_msg(timeout=TIMEOUT)["msg_type"] == "input_request"
    time.sleep(0.2)  # not a timing assertion: only lets the queued requests arrive
    kc.input("now")
    assert shell_reply(kc, first)["content"]["evalue"].endswith("stop now")
    for q in queued:
        assert shell_reply(kc, q)["content"]["status"] == "aborted"
    reply, _ = run(kc, "3")
    assert reply["status"] == "ok"


def test_comm_open_is_closed(kernel):
    km, kc = kernel
    comm_id = uuid.uuid4().hex
    msg = kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "jupyter.widget", "data": {}})
    kc.shell_channel.send(msg)
    outs = collect(kc, msg["header"]["msg_id"])
    assert [(m["msg_type"], m["content"]["comm_id"]) for m in outs] == [("comm_close", comm_id)]
    assert shell_reply(kc, kc.comm_info())["content"] == {"status": "ok", "comms": {}}


def test_history_survives_restart(jupyter_tmp):
    km, kc = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT)
    try:
        token = f"history_token_{uuid.uuid4().hex[:8]} := 5"
        run(kc, token)
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
    hist = jupyter_tmp / "data" / "golem" / "history.jsonl"
    assert token in hist.read_text()
    km, kc = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT)
    try:
        mid = kc.history(hist_access_type="search", pattern=token.split()[0] + "*", output=False, raw=True)
        rows = shell_reply(kc, mid)["content"]["history"]
        assert [r[2] for r in rows] == [token]
        mid = kc.history(hist_access_type="range", session=-1, start=1, output=True, raw=True)
        rows = shell_reply(kc, mid)["content"]["history"]
        assert rows and rows[-1][2][0] == token
    finally:
        kc.stop_channels()
        km.shutdown_kernel()


def test_shutdown_with_restart_flag():
    km, kc = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT)
    try:
        kc.shutdown(restart=True)  # sent on the control channel
        reply = kc.control_channel.get_msg(timeout=TIMEOUT)
        assert reply["msg_type"] == "shutdown_reply"
        assert reply["content"] == {"status": "ok", "restart": True}
        km.provisioner.process.wait(timeout=TIMEOUT)  # the process exits by itself
        assert km.provisioner.process.returncode == 0
    finally:
        kc.stop_channels()
        km.cleanup_resources()


def png_size(path):
    b = pathlib.Path(path).read_bytes()
    assert b[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", b[16:24])


def test_kernelspec_install(tmp_path, golem_bin):
    out = subprocess.run([golem_bin, "install", "--prefix", str(tmp_path)], check=True, capture_output=True, text=True)
    spec_dir = tmp_path / "share" / "jupyter" / "kernels" / "golem"
    assert str(spec_dir) in out.stdout
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert spec["display_name"] == "Go (golem)"
    assert spec["language"] == "go"
    assert spec["interrupt_mode"] == "message"
    assert spec["argv"] == [os.path.realpath(golem_bin), "kernel", "--connection-file", "{connection_file}"]
    assert png_size(spec_dir / "logo-32x32.png") == (32, 32)
    assert png_size(spec_dir / "logo-64x64.png") == (64, 64)
    # jupyter_client finds it, with its logos.
    ksm = KernelSpecManager(kernel_dirs=[str(tmp_path / "share" / "jupyter" / "kernels")])
    found = ksm.get_all_specs()["golem"]
    assert found["spec"]["display_name"] == "Go (golem)"
    assert {"logo-32x32.png", "logo-64x64.png"} <= set(os.listdir(found["resource_dir"]))
    # --sys-prefix follows $VIRTUAL_ENV; --name renames.
    venv = tmp_path / "venv"
    env = dict(os.environ, VIRTUAL_ENV=str(venv))
    subprocess.run([golem_bin, "install", "--sys-prefix", "--name", "go2"], check=True, capture_output=True, env=env)
    assert (venv / "share" / "jupyter" / "kernels" / "go2" / "kernel.json").exists()
    # Conflicting scopes are refused with a clear message.
    bad = subprocess.run([golem_bin, "install", "--user", "--prefix", str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode != 0 and "choose one of" in bad.stderr


def test_kernel_rejects_bad_connection_file(tmp_path, golem_bin):
    missing = tmp_path / "missing.json"
    r = subprocess.run([golem_bin, "kernel", "--connection-file", str(missing)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and str(missing) in r.stderr and "does not exist" in r.stderr
    cf = tmp_path / "cf.json"
    cf.write_text(json.dumps({"ip": "127.0.0.1", "transport": "tcp", "shell_port": 1, "iopub_port": 2, "stdin_port": 3,
                              "control_port": 4, "hb_port": 5, "key": "k", "signature_scheme": "hmac-md5"}))
    r = subprocess.run([golem_bin, "kernel", "--connection-file", str(cf)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and 'unsupported signature_scheme "hmac-md5"' in r.stderr


def test_heartbeat_echoes(kernel):
    import zmq

    km, kc = kernel
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://{km.ip}:{km.hb_port}")
    try:
        for i in range(3):
            sock.send(b"ping %d" % i)
            assert sock.poll(10000), "no heartbeat echo"
            assert sock.recv() == b"ping %d" % i
    finally:
        sock.close()


def test_ipc_transport(tmp_path, monkeypatch):
    from jupyter_client.manager import KernelManager

    monkeypatch.chdir(tmp_path)  # jupyter_client names ipc sockets relative to the cwd
    km = KernelManager(kernel_name="golem", transport="ipc")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        reply, outs = run(kc, "6 * 7")
        assert reply["status"] == "ok"
        assert outs[-1]["content"]["data"]["text/plain"] == "42"
    finally:
        kc.stop_channels()
        km.shutdown_kernel()


def test_user_expressions_and_silent(kernel):
    km, kc = kernel
    reply, _ = run(kc, "ux := 5", user_expressions={"double": "ux * 2", "bad": "undefinedName"})
    assert reply["status"] == "ok", reply
    ue = reply["user_expressions"]
    assert ue["double"]["status"] == "ok" and ue["double"]["data"]["text/plain"] == "10"
    assert ue["bad"]["status"] == "error" and "undefinedName" in ue["bad"]["evalue"]
    count = reply["execution_count"]
    # silent: nothing on IOPub but busy/idle, and the execution count does not move.
    msg_id = kc.execute("ux * 3", silent=True)
    reply = shell_reply(kc, msg_id)["content"]
    assert reply["status"] == "ok" and reply["execution_count"] == count
    assert collect(kc, msg_id) == []
    reply, outs = run(kc, "ux")
    assert reply["execution_count"] == count + 1


def test_restart_kernel():
    """jupyter_client's restart (shutdown_request with restart, then a new process on the
    same ports): the new kernel answers and starts from a clean state."""
    km, kc = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT)
    try:
        reply, _ = run(kc, "before := 1")
        assert reply["status"] == "ok"
        old_pid = km.provisioner.process.pid
        km.restart_kernel()
        assert km.provisioner.process.pid != old_pid
        kc.wait_for_ready(timeout=TIMEOUT)
        reply, outs = run(kc, "6 * 7")
        assert reply["status"] == "ok" and reply["execution_count"] == 1
        reply, _ = run(kc, "before")
        assert reply["status"] == "error"  # the old interpreter's state is gone
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
