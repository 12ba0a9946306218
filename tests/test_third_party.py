"""Third-party Go modules in a real golem kernel (issue 17, part 1): `%get` pins real
modules from the Go module proxy in the go.mod next to the notebook (the kernel's
working directory), builds a golem binary with their symbols compiled in and
restarts the kernel into it; cells then import gonum's mat and stat, draw a
gonum/plot SVG and make a google/uuid.

Needs the Go module proxy (downloads land in the module cache, so a second run only
rebuilds, or reuses the binary in <dir>/.golem/kernel). Timeouts only bound a hung
kernel or a slow first build: no assertion depends on timing.
"""

import re
import time
from queue import Empty

import pytest
from jupyter_client.manager import start_new_kernel

from test_attack_kernel import run

TIMEOUT = 60
BUILD_TIMEOUT = 900  # a first build compiles gonum and plot


@pytest.fixture
def kernel_in(tmp_path):
    """A golem kernel whose working directory (the notebook's) is tmp_path."""
    started = []

    def start(cwd=tmp_path):
        km, kc = start_new_kernel(kernel_name="golem", startup_timeout=TIMEOUT, cwd=str(cwd))
        started.append((km, kc))
        return kc

    yield start
    for km, kc in started:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def text(outs, name="stdout"):
    return "".join(m["content"]["text"] for m in outs if m["msg_type"] == "stream" and m["content"]["name"] == name)


def result(outs):
    rs = [m["content"]["data"] for m in outs if m["msg_type"] == "execute_result"]
    return rs[-1] if rs else None


def run_queued(kc, codes, timeout):
    """Sends every cell at once (as Run All does), then collects each one's reply and
    IOPub messages: the cells after the first wait in the kernel's queue."""
    ids = [kc.execute(c) for c in codes]
    replies, outs, idle = {}, {i: [] for i in ids}, set()
    deadline = time.time() + timeout
    while len(replies) < len(ids) or len(idle) < len(ids):
        if time.time() > deadline:
            raise TimeoutError(f"replies {list(replies.values())}")
        try:
            m = kc.get_shell_msg(timeout=0.05)
            if m["parent_header"].get("msg_id") in outs:
                replies[m["parent_header"]["msg_id"]] = m["content"]
        except Empty:
            pass
        try:
            m = kc.get_iopub_msg(timeout=0.05)
        except Empty:
            continue
        pid = m["parent_header"].get("msg_id")
        if pid not in outs:
            continue
        if m["msg_type"] == "status":
            if m["content"]["execution_state"] == "idle":
                idle.add(pid)
        elif m["msg_type"] != "execute_input":
            outs[pid].append(m)
    return [(replies[i], outs[i]) for i in ids]


def ok(kc, code, timeout=TIMEOUT):
    reply, outs = run(kc, code, timeout=timeout)
    assert reply["status"] == "ok", (code, reply, outs)
    return outs


GET = ("%get gonum.org/v1/gonum/mat@v0.17.0 gonum.org/v1/gonum/stat gonum.org/v1/plot@v0.17.0 "
       "gonum.org/v1/plot/plotter gonum.org/v1/plot/vg github.com/google/uuid")

MAT = '''
import "gonum.org/v1/gonum/mat"
a := mat.NewDense(2, 2, []float64{1, 2, 3, 4})
var c mat.Dense
c.Mul(a, a)
fmt.Println(mat.Formatted(&c))
mat.Det(a)
'''

STAT = '''
import "gonum.org/v1/gonum/stat"
xs := []float64{2, 4, 4, 4, 5, 5, 7, 9}
fmt.Println(stat.Mean(xs, nil), stat.PopStdDev(xs, nil))
'''

PLOT = '''
import (
	"bytes"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)
p := plot.New()
p.Title.Text = "squares"
pts := make(plotter.XYs, 10)
for i := range pts {
	pts[i].X, pts[i].Y = float64(i), float64(i*i)
}
line, err := plotter.NewLine(pts)
p.Add(line)
w, err := p.WriterTo(4*vg.Inch, 3*vg.Inch, "svg")
var buf bytes.Buffer
w.WriteTo(&buf)
display.SVG(buf.String())
'''

UUID = '''
import "github.com/google/uuid"
uuid.NewSHA1(uuid.NameSpaceURL, []byte("golem")).String()
'''


def test_get_gonum_plot_uuid(kernel_in, tmp_path):
    kc = kernel_in()
    ok(kc, "before := 42")
    # the cell after %get is sent at once, so it waits in the old kernel's queue and
    # runs in the new one
    (reply, outs), (mat_reply, mat_outs) = run_queued(kc, [GET, MAT], BUILD_TIMEOUT)
    assert reply["status"] == "ok", (reply, outs)
    said = text(outs)
    assert "gonum.org/v1/gonum/mat: gonum.org/v1/gonum v0.17.0 (pinned in" in said, said
    assert "the kernel restarts after this cell into" in said, said
    gomod = (tmp_path / "go.mod").read_text()
    assert re.search(r"gonum\.org/v1/gonum v0\.17\.0\b", gomod), gomod
    assert re.search(r"gonum\.org/v1/plot v0\.17\.0\b", gomod), gomod
    # no version: the latest, recorded
    assert re.search(r"github\.com/google/uuid v\d+\.\d+\.\d+\b", gomod), gomod

    # the queued cell ran in the new kernel, which says what was lost
    reply, outs = mat_reply, mat_outs
    assert reply["status"] == "ok", (reply, outs)
    assert "the kernel restarted into" in text(outs, "stderr"), outs
    assert "⎡ 7  10⎤\n⎣15  22⎦" in text(outs), outs
    assert result(outs)["text/plain"].startswith("-2"), outs  # det [[1 2] [3 4]]
    reply, outs = run(kc, "before")
    assert reply["status"] == "error" and "undefined: before" in reply["evalue"], reply

    assert text(ok(kc, STAT)).strip() == "5 2"
    svg = [m["content"]["data"] for m in ok(kc, PLOT) if m["msg_type"] == "display_data"]
    assert svg and "<svg" in svg[0]["image/svg+xml"] and "squares" in svg[0]["image/svg+xml"], svg
    assert result(ok(kc, UUID))["text/plain"] == '"4d2ff895-69a3-57a6-9eb5-0d76224af0bc"'

    # %get again: the same versions, already compiled in, no restart
    outs = ok(kc, GET, timeout=TIMEOUT)
    assert "this kernel has them compiled in" in text(outs), outs
    assert (tmp_path / "go.mod").read_text() == gomod
    assert result(ok(kc, "x := 7\nx"))["text/plain"] == "7"
    assert result(ok(kc, "x"))["text/plain"] == "7"  # still the same kernel

    # a kernel started later in the folder (Jupyter's Restart, a rerun) starts in the
    # binary the %get built: the packages are there without a %get
    kc2 = kernel_in()
    assert result(ok(kc2, UUID))["text/plain"] == '"4d2ff895-69a3-57a6-9eb5-0d76224af0bc"'
    assert "this kernel has them compiled in" in text(ok(kc2, GET, timeout=TIMEOUT))


def test_get_errors_keep_the_kernel(kernel_in, tmp_path):
    kc = kernel_in()
    ok(kc, "keep := 5")
    for code, want in [
        ("%get github.com/golem-lm/no-such-module-zz@v1.0.0", "github.com/golem-lm/no-such-module-zz"),
        ("%get github.com/google/uuid@v9.9.9", "v9.9.9"),
        ("%get fmt", "not a module path"),
        ("%get", "%get needs a package"),
        ("%get github.com/google/uuid@latest;rm", "not an import path"),
    ]:
        reply, outs = run(kc, code, timeout=120)
        assert reply["status"] == "error" and reply["ename"] == "MagicError", (code, reply)
        assert want in reply["evalue"], (code, reply["evalue"])
    # an import of a package the kernel lacks says how to get it
    reply, outs = run(kc, 'import "github.com/google/uuid"\nuuid.New()')
    assert reply["status"] == "error" and reply["ename"] == "ImportError", reply
    assert "run %get github.com/google/uuid" in reply["evalue"], reply
    assert result(ok(kc, "keep"))["text/plain"] == "5"  # the same kernel, its state kept
