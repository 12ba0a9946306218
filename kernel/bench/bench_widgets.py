"""Widget callbacks side by side: golem (display/widgets) vs ipykernel with ipywidgets.

Usage: bench_widgets.py --golem bin/golem [--updates 300]

widget-update: slider updates per second, each sent as the front end sends one (a
comm_msg {method: update, state: {value: i}} on shell) and waited for until the
kernel's idle status for it on IOPub; the kernel echoes it (echo_update) and runs a
callback that counts the changes. The count is checked at the end (every update ran
the callback once). ratio > 1 means golem is faster.
"""
import argparse
import time

from bench_kernel import run_cell, start, stop, use_kernelspec

SETUP = {
    "golem": 'import "github.com/golem-lm/golem/display/widgets"\n'
             'n := 0\ns := widgets.NewIntSlider("x", 0, 1000000, 0)\ns.OnChange(func(int) { n++ })\ns',
    "python3": "import ipywidgets as w\nn = 0\ns = w.IntSlider(min=0, max=1000000)\n"
               "def f(change):\n    global n\n    n += 1\ns.observe(f, 'value')\ns",
}
COUNT = {"golem": 'import "fmt"\nfmt.Println(n)', "python3": "print(n)"}


def slider_comm(kc, name):
    msg_id = kc.execute(SETUP[name])
    comm = None
    while True:
        m = kc.get_iopub_msg(timeout=60)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "comm_open" and m["content"]["data"]["state"].get("_model_name") == "IntSliderModel":
            comm = m["content"]["comm_id"]
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            return comm


def update(kc, comm, v):
    msg = kc.session.msg("comm_msg", {"comm_id": comm, "data": {"method": "update", "state": {"value": v},
                                                                   "buffer_paths": []}})
    kc.shell_channel.send(msg)
    while True:
        m = kc.get_iopub_msg(timeout=60)
        if (m["parent_header"].get("msg_id") == msg["header"]["msg_id"] and m["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"):
            return


def count(kc, name):
    msg_id = kc.execute(COUNT[name])
    out = ""
    while True:
        m = kc.get_iopub_msg(timeout=60)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "stream":
            out += m["content"]["text"]
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            return int(out)


def updates(name, n):
    km, kc, _ = start(name)
    try:
        comm = slider_comm(kc, name)
        for v in range(1, 21):  # warm up
            update(kc, comm, v)
        t0 = time.perf_counter()
        for v in range(21, 21 + n):
            update(kc, comm, v)
        rate = n / (time.perf_counter() - t0)
        assert count(kc, name) == 20 + n, f"{name}: not every update ran the callback"
        return rate
    finally:
        stop(km, kc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golem", required=True, help="path of the golem binary")
    ap.add_argument("--updates", type=int, default=300)
    a = ap.parse_args()
    use_kernelspec(a.golem)
    g, i = updates("golem", a.updates), updates("python3", a.updates)
    print(f"bench: widget-update golem={g:.0f}/s ipykernel={i:.0f}/s ratio={g / i:.2f}", flush=True)


if __name__ == "__main__":
    main()
