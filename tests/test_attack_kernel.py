"""Adversarial tests of the golem kernel (issue 12): the real `golem kernel` process,
driven by the real jupyter_client, attacked the ways a user's cells or a captured
message can. Each test asserts that the kernel survives (or restarts and says why),
that the attack fails, and that nothing else is lost.

The kernelspec comes from conftest.py. Timeouts here only bound a hung kernel: no
assertion depends on how fast anything is.
"""

import os
import signal
import time
import uuid
from queue import Empty

import pytest
from jupyter_client.manager import start_new_kernel

TIMEOUT = 60


@pytest.fixture
def kernel():
    km, kc = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT)
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def run(kc, code, timeout=TIMEOUT, **kw):
    """Execute code; return (execute_reply content, IOPub messages of the request up to
    idle, without status and execute_input). Shell and IOPub are read in turn, as
    frontends do: a restarted kernel answers once the client has reconnected both."""
    msg_id = kc.execute(code, **kw)
    reply, outs, idle = None, [], False
    deadline = time.time() + timeout
    while reply is None or not idle:
        if time.time() > deadline:
            raise TimeoutError(f"no reply and idle status for {code[:60]!r} (reply: {reply})")
        try:
            m = kc.get_shell_msg(timeout=0.05)
            if m["parent_header"].get("msg_id") == msg_id:
                reply = m["content"]
        except Empty:
            pass
        try:
            m = kc.get_iopub_msg(timeout=0.05)
        except Empty:
            continue
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "status":
            idle = idle or m["content"]["execution_state"] == "idle"
        elif m["msg_type"] != "execute_input":
            outs.append(m)
    return reply, outs


def value(kc, code):
    reply, outs = run(kc, code)
    assert reply["status"] == "ok", reply
    results = [m for m in outs if m["msg_type"] == "execute_result"]
    return results[-1]["content"]["data"]["text/plain"] if results else None


def kernel_pid(kc):
    return int(value(kc, 'import "os"\nos.Getpid()'))


def history(kc, **query):
    msg_id = kc.history(raw=True, output=False, **query)
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        m = kc.get_shell_msg(timeout=TIMEOUT)
        if m["parent_header"].get("msg_id") == msg_id:
            return m["content"]["history"]
    raise TimeoutError("no history_reply")


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie (exited, not yet reaped) is gone too.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def wait_gone(pid, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while not gone(pid):
        if time.time() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_attack_infinite_recursion_keeps_state(kernel):
    """Issue 12.5: `R(0)` with `func R(n int) int { return R(n+1) + 1 }` hung the kernel
    forever. The session stops the recursion before Go's stack overflow would end the
    process: a StackOverflow error, the same process, the variables kept."""
    km, kc = kernel
    pid = kernel_pid(kc)
    assert value(kc, "kept := 41\nkept") == "41"
    reply, outs = run(kc, "func R(n int) int { return R(n+1) + 1 }\nR(0)")
    assert reply["status"] == "error" and reply["ename"] == "StackOverflow", reply
    assert [m["msg_type"] for m in outs] == ["error"]
    assert value(kc, "kept + 1") == "42"
    assert kernel_pid(kc) == pid
    assert km.is_alive()


def test_attack_fatal_stack_overflow_restarts_and_says_why(kernel):
    """A stack overflow the session cannot stop (here the stack limit is lowered below
    its alarm) ends the process, as Go always does. The supervisor starts a new kernel
    on the same connection file: the cell gets KernelRestarted naming the reason and
    what is lost, history and the execution count go on, the kernel serves again."""
    km, kc = kernel
    token = f"before_{uuid.uuid4().hex[:8]} := 41"
    reply, _ = run(kc, token)
    assert reply["status"] == "ok"
    pid = kernel_pid(kc)
    reply, outs = run(kc, 'import "runtime/debug"\ndebug.SetMaxStack(8 << 20)\n'
                          "func R(n int) int { return R(n+1) + 1 }\nR(0)")
    assert reply["status"] == "error" and reply["ename"] == "KernelRestarted", reply
    assert "stack overflow" in reply["evalue"] and "gone" in reply["evalue"], reply["evalue"]
    assert reply["execution_count"] == 3
    errors = [m["content"] for m in outs if m["msg_type"] == "error"]
    assert errors and errors[0]["ename"] == "KernelRestarted"
    # State loss is stated and real; history and the count are kept.
    reply, _ = run(kc, token.split()[0])
    assert reply["status"] == "error" and reply["execution_count"] == 4
    inputs = [row[2] for row in history(kc, hist_access_type="range", session=0, start=1)]
    assert inputs[0] == token and "R(0)" in inputs[2] and len(inputs) == 4, inputs
    assert kernel_pid(kc) != pid
    assert value(kc, "6 * 7") == "42"
    assert km.is_alive()


def test_attack_sigkill_restarts_and_says_why(kernel):
    """The OOM killer's SIGKILL (sent here by the cell itself) cannot be caught: the
    supervisor restarts the kernel and says it was killed, most likely for memory."""
    km, kc = kernel
    reply, _ = run(kc, "!kill -KILL $PPID")
    assert reply["status"] == "error" and reply["ename"] == "KernelRestarted", reply
    assert "SIGKILL" in reply["evalue"] and "OOM killer" in reply["evalue"], reply["evalue"]
    assert value(kc, "1 + 1") == "2"
    assert km.is_alive()


def test_attack_huge_allocation_is_an_error(kernel):
    """Issue 12.8: a huge make killed the kernel with no error shown. It is refused
    with a message, before Go would end the process; the variables are kept."""
    km, kc = kernel
    pid = kernel_pid(kc)
    run(kc, "kept := 41")
    reply, _ = run(kc, "b := make([]byte, 1<<47)")
    assert reply["status"] == "error" and "memory available" in reply["evalue"], reply
    assert value(kc, "kept + 1") == "42"
    assert kernel_pid(kc) == pid


def test_attack_goroutine_panic_keeps_func_literals(kernel):
    """Issue 12.6: after a goroutine panicked, func literals of earlier cells returned
    zero values."""
    km, kc = kernel
    run(kc, "g := func() int { return 7 }")
    reply, _ = run(kc, 'import "time"\ngo func() { panic("x") }()\ntime.Sleep(100 * time.Millisecond)')
    assert reply["status"] == "error" and reply["ename"] == "GoroutinePanic", reply
    assert value(kc, "g()") == "7"


def test_attack_huge_cell_keeps_history(kernel, jupyter_tmp):
    """Issue 12.7: one cell over 16 MiB turned history off for every later kernel. It is
    stored cut, with a note, and the next kernel reads all history."""
    km, kc = kernel
    before, after = f"before_{uuid.uuid4().hex[:8]} := 1", f"after_{uuid.uuid4().hex[:8]} := 2"
    run(kc, before)
    reply, _ = run(kc, "// " + "x" * (17 << 20) + "\n1")
    assert reply["status"] == "ok", reply
    run(kc, after)
    km2, kc2 = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT)
    try:
        rows = history(kc2, hist_access_type="tail", n=3)
        inputs = [r[2] for r in rows]
        assert inputs[0] == before and inputs[2] == after, [i[:40] for i in inputs]
        assert len(inputs[1]) < (2 << 20) and "history keeps the first" in inputs[1]
    finally:
        kc2.stop_channels()
        km2.shutdown_kernel(now=True)


def test_attack_replayed_message_runs_once(kernel, tmp_path):
    """Issue 12.8: a validly signed message sent again was run twice. The kernel drops
    a duplicate signature, as jupyter_client's Session does."""
    km, kc = kernel
    marker = tmp_path / "ran"
    code = (f'import "os"\nf, _ := os.OpenFile({str(marker)!r}, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)\n'
            'f.WriteString("x")\nf.Close()').replace("'", '"')
    msg = kc.session.msg("execute_request", content={"code": code, "silent": False, "store_history": True,
                                                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
    frames = kc.session.serialize(msg)
    sock = kc.shell_channel.socket
    sock.send_multipart(frames)
    sock.send_multipart(frames)  # the replay, byte for byte
    upper = list(frames)
    upper[1] = upper[1].upper()  # the same signature in upper-case hex also verifies
    sock.send_multipart(upper)
    # Requests are served in order: the next reply is that of a fresh request.
    reply, _ = run(kc, "1 + 1")
    assert reply["status"] == "ok"
    assert marker.read_text() == "x"
    assert reply["execution_count"] == 2


def test_attack_interrupt_signal_reaches_the_kernel(kernel):
    """The supervisor passes SIGINT (jupyter_client's signal interrupt) on to the kernel."""
    km, kc = kernel
    msg_id = kc.execute("for {}")
    while True:
        m = kc.get_iopub_msg(timeout=TIMEOUT)
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "execute_input":
            break
    km.signal_kernel(signal.SIGINT)
    while True:
        m = kc.get_shell_msg(timeout=TIMEOUT)
        if m["parent_header"].get("msg_id") == msg_id:
            break
    assert m["content"]["ename"] == "Interrupted", m["content"]
    assert value(kc, "1 + 2") == "3"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_attack_stopping_the_supervisor_leaves_no_kernel(sig):
    """SIGTERM (Jupyter's terminate) and SIGKILL (its kill) of `golem kernel` end the
    kernel process it supervises too: nothing is left running."""
    km, kc = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT)
    try:
        child = kernel_pid(kc)
        supervisor = km.provisioner.process.pid
        assert child != supervisor
        os.kill(supervisor, sig)
        assert wait_gone(child), f"kernel {child} still running after {sig.name} to its supervisor"
        km.provisioner.process.wait(timeout=TIMEOUT)
    finally:
        kc.stop_channels()
        km.cleanup_resources()
