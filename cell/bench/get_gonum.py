"""Times %get of gonum/mat in a real golem kernel (a fresh notebook directory: go get, yaegi
extract, go build of a kernel binary, the restart), then a 200×200 matrix product in a cell:
gonum's compiled Dense.Mul against the same triple loop interpreted by yaegi.

Run: make bench-get   (uses the module and build caches as they are; say so with the figures)
"""
import os
import re
import subprocess
import sys
import tempfile
import time

from jupyter_client.manager import start_new_kernel

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "tests"))
from test_attack_kernel import run  # noqa: E402

MATMUL = '''
import (
	"time"

	"gonum.org/v1/gonum/mat"
)
n := 200
x := make([]float64, n*n)
for i := range x {
	x[i] = float64(i % 7)
}
a := mat.NewDense(n, n, x)
func matmul(x, y []float64, n int) {
	for i := 0; i < n; i++ {
		for k := 0; k < n; k++ {
			aik := x[i*n+k]
			for j := 0; j < n; j++ {
				y[i*n+j] += aik * x[k*n+j]
			}
		}
	}
}
t0 := time.Now()
var c mat.Dense
c.Mul(a, a)
dc := time.Since(t0)
y := make([]float64, n*n)
t1 := time.Now()
matmul(x, y, n)
di := time.Since(t1)
fmt.Printf("compiled=%.2fms interpreted=%.0fms same=%v\\n", dc.Seconds()*1e3, di.Seconds()*1e3, c.At(3, 5) == y[3*n+5])
'''


def main():
    golem = os.environ.get("GOLEM_BIN", "bin/golem")
    with tempfile.TemporaryDirectory(prefix="golem-bench-get-") as d:
        # the kernelspec of the binary under test, in a Jupyter path of its own
        subprocess.run([golem, "install", "--prefix", d + "/prefix"], check=True, capture_output=True)
        os.environ["JUPYTER_PATH"] = d + "/prefix/share/jupyter"
        os.environ["JUPYTER_DATA_DIR"] = d + "/data"
        os.makedirs(d + "/nb")
        d = d + "/nb"
        km, kc = start_new_kernel(kernel_name="golem", startup_timeout=60, cwd=d)
        try:
            t = time.time()
            reply, _ = run(kc, "%get gonum.org/v1/gonum/mat@v0.17.0", timeout=900)
            get_s = time.time() - t
            assert reply["status"] == "ok", reply
            reply, outs = run(kc, MATMUL, timeout=300)
            assert reply["status"] == "ok", reply
            text = "".join(m["content"].get("text", "") for m in outs if m["msg_type"] == "stream")
            m = re.search(r"compiled=([\d.]+)ms interpreted=([\d.]+)ms same=true", text)
            assert m, text
            c, i = float(m.group(1)), float(m.group(2))
            print(f"bench: get-gonum-mat seconds={get_s:.1f} matmul200 compiled={c:.2f}ms interpreted={i:.0f}ms ratio={i / c:.0f}")
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
