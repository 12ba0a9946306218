"""What the supervisor of `golem kernel` costs: the same binary started with and
without it (`--no-supervisor`), interleaved so that both see the same machine load.

Usage: bench_supervisor.py --golem bin/golem [--rounds 5] [--cells 300]

supervisor-startup: seconds from KernelManager.start_kernel to a kernel_info_reply
with IOPub connected (wait_for_ready), median over --rounds starts of each.
supervisor-roundtrip: trivial cells ("1") per second, as in bench_kernel.py, the
median over --rounds kernels of each (the supervised kernel writes its state file
around every cell).
ratio > 1 means the supervised kernel is faster.
"""
import argparse
import json
import os
import pathlib
import statistics
import tempfile
import time

from bench_kernel import run_cell, start, stop


def install(prefix, name, argv):
    d = pathlib.Path(prefix) / "share" / "jupyter" / "kernels" / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": name, "language": "go",
                                               "interrupt_mode": "message"}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golem", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cells", type=int, default=300)
    args = ap.parse_args()
    golem = os.path.abspath(args.golem)
    tmp = tempfile.mkdtemp(prefix="golem-bench-sup-")
    base = [golem, "kernel", "--history", "-", "--connection-file", "{connection_file}"]
    install(tmp, "golem-supervised", base)
    install(tmp, "golem-direct", base[:2] + ["--no-supervisor"] + base[2:])
    os.environ["JUPYTER_PATH"] = os.path.join(tmp, "share", "jupyter")
    starts = {"golem-supervised": [], "golem-direct": []}
    rates = {"golem-supervised": [], "golem-direct": []}
    for _ in range(args.rounds):
        for name in starts:
            km, kc, t = start(name)
            starts[name].append(t)
            for _ in range(20):
                run_cell(kc, "1")
            t0 = time.perf_counter()
            for _ in range(args.cells):
                run_cell(kc, "1")
            rates[name].append(args.cells / (time.perf_counter() - t0))
            stop(km, kc)
    s, d = statistics.median(starts["golem-supervised"]), statistics.median(starts["golem-direct"])
    print(f"bench: supervisor-startup supervised={s:.3f}s direct={d:.3f}s ratio={d / s:.2f}")
    s, d = statistics.median(rates["golem-supervised"]), statistics.median(rates["golem-direct"])
    print(f"bench: supervisor-roundtrip supervised={s:.0f}/s direct={d:.0f}/s ratio={s / d:.2f}")


if __name__ == "__main__":
    main()
