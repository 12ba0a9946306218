"""bench: serve-completions — completions/s and p50/p99 latency of OpenAI-style
POST /v1/completions at 1, 4 and 16 concurrent clients: golem serve against HF
transformers' text-generation pipeline behind waitress (tools/benchserve/pipeline_server.py),
on the same checkpoint (a seeded 30M-parameter GPT-2 with GPT-2's tokenizer, written by
tools/benchserve in both formats).

    .venv/bin/python tools/benchserve/bench_serve.py [--max-tokens 32] [--requests 32]   (make bench-serve)

Every request is greedy (temperature 0) with max_tokens new tokens on a different Opticks
sentence as the prompt; both servers must generate the same number of tokens. The last line is
`bench: serve-completions golem=… transformers_pipeline=… ratio=…` at 16 clients.
"""
import argparse
import json
import os
import pathlib
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLEM_BIN = os.environ.get("GOLEM_BIN") or str(ROOT / "bin" / "golem")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url, proc, log, timeout=180):
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"server did not start: {pathlib.Path(log).read_text()[-2000:]}")
            time.sleep(0.2)


def post(url, body, key=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": "Bearer " + key} if key else {})})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)


def load(url, key, model, prompts, clients, max_tokens):
    """clients threads send the prompts (shared queue) one request at a time each."""
    lat, tokens, lock = [], [], threading.Lock()
    queue = list(prompts)

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                p = queue.pop()
            t0 = time.perf_counter()
            out = post(url, {"model": model, "prompt": p, "max_tokens": max_tokens, "temperature": 0}, key)
            el = time.perf_counter() - t0
            with lock:
                lat.append(el)
                tokens.append(out["usage"]["completion_tokens"])

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(round(q * (len(lat) - 1))))]
    return {"rps": len(lat) / wall, "p50": pct(0.5), "p99": pct(0.99), "tokens": sum(tokens), "n": len(lat)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--requests", type=int, default=32, help="requests per concurrency level and server")
    ap.add_argument("--clients", default="1,4,16")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="CPU threads of each server (GOMAXPROCS and OpenBLAS for golem, torch for the pipeline)")
    a = ap.parse_args()

    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    text = " ".join(pathlib.Path(goroot, "src/testdata/Isaac.Newton-Opticks.txt").read_text().split())
    sents = [s for s in re.split(r"(?<=[.;])\s+", text) if 8 <= len(s.split()) <= 30]
    prompts = sents[100:100 + a.requests]

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="golem-bench-serve-"))
    subprocess.run(["go", "run", "./tools/benchserve", "-out", str(tmp)], cwd=ROOT, check=True)
    keys = tmp / "keys"
    key = subprocess.run([GOLEM_BIN, "keys", "new", "--scopes", "invoke:generate", "--name", "bench", "--file", str(keys)],
                         capture_output=True, text=True, check=True).stdout.strip()
    gport, pport = free_port(), free_port()
    glog, plog = tmp / "golem.log", tmp / "peer.log"
    threads = str(a.threads)
    genv = dict(os.environ, GOMAXPROCS=threads, OPENBLAS_NUM_THREADS=threads)
    penv = dict(os.environ, OMP_NUM_THREADS=threads, TORCH_NUM_THREADS=threads)
    golem = subprocess.Popen([GOLEM_BIN, "serve", "--addr", f"127.0.0.1:{gport}", "--keys", str(keys),
                              "--data", str(tmp / "data"), "--models", str(tmp / "models"), "--workers", "1"],
                             stdout=open(glog, "w"), stderr=subprocess.STDOUT, env=genv)
    peer = subprocess.Popen([sys.executable, str(ROOT / "tools/benchserve/pipeline_server.py"), str(tmp / "hf"), str(pport)],
                            stdout=open(plog, "w"), stderr=subprocess.STDOUT, env=penv)
    try:
        wait_up(f"http://127.0.0.1:{gport}/_/health", golem, glog)
        wait_up(f"http://127.0.0.1:{pport}/health", peer, plog)
        servers = {"golem": (f"http://127.0.0.1:{gport}/v1/completions", key),
                   "transformers_pipeline": (f"http://127.0.0.1:{pport}/v1/completions", None)}
        for name, (url, k) in servers.items():  # warm up (model load, first-call allocations)
            load(url, k, "bench", prompts[:2], 1, a.max_tokens)
        rows = {}
        for c in [int(x) for x in a.clients.split(",")]:
            for name, (url, k) in servers.items():
                rows[(name, c)] = r = load(url, k, "bench", prompts, c, a.max_tokens)
                print(f"{name:22s} clients {c:2d}: {r['rps']:6.2f} completions/s  p50 {r['p50']*1000:7.0f} ms  "
                      f"p99 {r['p99']*1000:7.0f} ms  ({r['n']} requests, {r['tokens']} tokens)", flush=True)
        for c in [int(x) for x in a.clients.split(",")]:
            g, p = rows[("golem", c)], rows[("transformers_pipeline", c)]
            if g["tokens"] != p["tokens"]:
                print(f"note: at {c} clients golem generated {g['tokens']} tokens, the pipeline {p['tokens']}", file=sys.stderr)
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        g, p = rows[("golem", 16)], rows[("transformers_pipeline", 16)]
        print(f"bench: serve-completions golem={g['rps']:.2f} transformers_pipeline={p['rps']:.2f} "
              f"ratio={g['rps'] / p['rps']:.2f} (completions/s at 16 clients, {a.max_tokens} tokens each, "
              f"{a.threads} threads of {os.cpu_count()} CPUs, {cpu}, load average {os.getloadavg()[0]:.1f})")
    finally:
        for proc in (golem, peer):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
