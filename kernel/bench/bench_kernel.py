"""Side-by-side kernel benchmark: golem vs ipykernel, one jupyter_client loop for both.

Usage: bench_kernel.py --golem bin/golem [--roundtrips 300] [--starts 5]

kernel-startup: seconds from KernelManager.start_kernel to a kernel_info_reply
with IOPub connected (jupyter_client's wait_for_ready), median of --starts runs.
kernel-roundtrip: trivial cells ("1") per second, each waited for like nbclient
does (execute_reply on shell and idle status on IOPub).
kernel-stream: seconds for a cell printing 100 000 numbered lines until the idle
status, every line received and checked.
ratio > 1 means golem is better (startup: ipykernel time / golem time).
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

from jupyter_client.manager import KernelManager


def start(name):
    t0 = time.perf_counter()
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    return km, kc, time.perf_counter() - t0


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def run_cell(kc, code):
    msg_id = kc.execute(code)
    while True:
        r = kc.get_shell_msg(timeout=60)
        if r["parent_header"].get("msg_id") == msg_id:
            break
    assert r["content"]["status"] == "ok", r["content"]
    while True:
        m = kc.get_iopub_msg(timeout=60)
        if (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"):
            return


STREAM_CELLS = {
    "golem": ('import "fmt"', "for i := 0; i < 100000; i++ {\n\tfmt.Println(i)\n}"),
    "python3": ("pass", "for i in range(100000):\n    print(i)"),
}


def stream_time(name):
    km, kc, _ = start(name)
    try:
        setup, cell = STREAM_CELLS[name]
        run_cell(kc, setup)
        t0 = time.perf_counter()
        msg_id = kc.execute(cell)
        text = []
        while True:
            m = kc.get_iopub_msg(timeout=120)
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            if m["msg_type"] == "stream":
                text.append(m["content"]["text"])
            elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break
        dt = time.perf_counter() - t0
        assert "".join(text) == "".join(f"{i}\n" for i in range(100000)), f"{name}: stream output incomplete"
        return dt
    finally:
        stop(km, kc)


def startup_time(name, runs):
    times = []
    for _ in range(runs):
        km, kc, t = start(name)
        times.append(t)
        stop(km, kc)
    return statistics.median(times)


def roundtrips(name, n):
    km, kc, _ = start(name)
    try:
        for _ in range(20):  # warm up
            run_cell(kc, "1")
        t0 = time.perf_counter()
        for _ in range(n):
            run_cell(kc, "1")
        return n / (time.perf_counter() - t0)
    finally:
        stop(km, kc)


def use_kernelspec(golem):
    """Install the golem kernelspec of the binary golem into a temporary Jupyter path
    and point this process's Jupyter at it (ipykernel's python3 stays findable)."""
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="golem-bench-"))
    subprocess.run([golem, "install", "--prefix", str(tmp)], check=True, capture_output=True)
    os.environ["JUPYTER_PATH"] = str(tmp / "share" / "jupyter")
    os.environ["JUPYTER_DATA_DIR"] = str(tmp / "data")
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golem", required=True, help="path of the golem binary")
    ap.add_argument("--roundtrips", type=int, default=300)
    ap.add_argument("--starts", type=int, default=5)
    a = ap.parse_args()
    use_kernelspec(a.golem)

    g_rt, i_rt = roundtrips("golem", a.roundtrips), roundtrips("python3", a.roundtrips)
    print(f"bench: kernel-roundtrip golem={g_rt:.0f}/s ipykernel={i_rt:.0f}/s ratio={g_rt / i_rt:.2f}", flush=True)
    g_s, i_s = stream_time("golem"), stream_time("python3")
    print(f"bench: kernel-stream golem={g_s:.2f}s ipykernel={i_s:.2f}s ratio={i_s / g_s:.2f}", flush=True)
    g_st, i_st = startup_time("golem", a.starts), startup_time("python3", a.starts)
    print(f"bench: kernel-startup golem={g_st:.3f}s ipykernel={i_st:.3f}s ratio={i_st / g_st:.2f}", flush=True)


if __name__ == "__main__":
    main()
