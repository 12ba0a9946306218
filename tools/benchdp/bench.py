"""make bench-train-dp: data-parallel training on this machine, golem against PyTorch.

1. Tokens/s of `golem train` (the default baby GPT, char-level Opticks, T=64) on one rank
   with the global batch of 16 rows (GOMAXPROCS = all cores), and on 2 ranks under mpirun
   with 8 rows each (GOMAXPROCS=1 per rank: a rank per core, as data parallelism is used).
2. The gradient all-reduce of one step for GPT-2 124M (124,439,808 float32) on 2 ranks:
   golem's lmlib/dist (MPI_Allreduce of 25 MB buckets + the 1/ranks scale, tools/benchdp)
   against PyTorch DistributedDataParallel on the gloo backend (its own 25 MB buckets, its
   own averaging), both as 2 processes on the same cores. The DDP figure is the time of a
   backward pass that synchronises minus the same backward inside no_sync(), so it is the
   all-reduce DDP adds to a step.

Prints `bench:` lines; the last is `bench: allreduce-gpt2 golem=… pytorch=… ratio=…`
(milliseconds per step, median of the runs; ratio = pytorch / golem, above 1 = golem faster).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

GPT2_FLOATS = 124_439_808

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def mpirun(n, argv, env=None):
    cmd = ["mpirun", "-np", str(n), "--oversubscribe", "--bind-to", "none"]
    for k, v in (env or {}).items():
        cmd += ["-x", f"{k}={v}"]
    return cmd + argv


def run(cmd, env=None):
    e = dict(os.environ)
    e.update(MPI_ENV)
    e.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, env=e)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p.stdout


def tokens_per_sec(out):
    m = re.search(r"steps, \d+ tokens, .* ([0-9.]+) tok/s", out)
    if not m:
        sys.exit("no tok/s in golem train's output:\n" + out)
    return float(m.group(1))


def opticks():
    root = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True).stdout.strip()
    return os.path.join(root, "src", "testdata", "Isaac.Newton-Opticks.txt")


def ddp_worker(rank, world, floats, iters, port, out):
    import torch
    import torch.distributed as tdist
    from torch.nn.parallel import DistributedDataParallel as DDP

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    tdist.init_process_group("gloo", rank=rank, world_size=world)

    class Grads(torch.nn.Module):
        # GPT-2 124M's parameter tensors (tied output embedding), so DDP builds the
        # buckets it would build for that model.
        def __init__(self):
            super().__init__()
            C, L, V, T = 768, 12, 50257, 1024
            shapes = [(V, C), (T, C)]
            for _ in range(L):
                shapes += [(C,), (C,), (C, 3 * C), (3 * C,), (C, C), (C,), (C,), (C,), (C, 4 * C), (4 * C,), (4 * C, C), (C,)]
            shapes += [(C,), (C,)]
            self.ps = torch.nn.ParameterList([torch.nn.Parameter(torch.full(s, 0.001 * (rank + 1))) for s in shapes])

        def forward(self):
            return sum((p * p).sum() for p in self.ps)

    m = Grads()
    n = sum(p.numel() for p in m.ps)
    assert n == floats, (n, floats)
    ddp = DDP(m, bucket_cap_mb=25)

    def step(sync):
        for p in m.ps:
            p.grad = None
        tdist.barrier()
        t0 = time.perf_counter()
        if sync:
            ddp().backward()
        else:
            with ddp.no_sync():
                ddp().backward()
        return (time.perf_counter() - t0) * 1000

    step(True)  # warm-up (bucket rebuild on the first iteration)
    synced, local = [], []
    for _ in range(iters):
        synced.append(step(True))
        local.append(step(False))
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"synced_ms": synced, "local_ms": local, "torch": torch.__version__}, f)
    tdist.destroy_process_group()


def ddp_allreduce(floats, iters):
    import socket

    import torch.multiprocessing as mp

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "ddp.json")
        mp.spawn(ddp_worker, args=(2, floats, iters, port, out), nprocs=2, join=True)
        with open(out) as f:
            r = json.load(f)
    diffs = sorted(a - b for a, b in zip(r["synced_ms"], r["local_ms"]))
    return diffs[len(diffs) // 2], r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golem", required=True)
    ap.add_argument("--benchdp", required=True)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    cpu = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    print(f"# {os.cpu_count()} cores ({cpu}), load average {os.getloadavg()[0]:.1f}", flush=True)

    # 1. tokens/s, 1 rank vs 2 ranks, same global batch; rounds interleaved.
    text = opticks()
    common = ["train", "--text", text, "--steps", str(a.steps), "--eval-every", str(a.steps), "--eval-batches", "2"]
    one, two = [], []
    for _ in range(a.rounds):
        one.append(tokens_per_sec(run([a.golem] + common + ["--batch", "16"])))
        two.append(tokens_per_sec(run(mpirun(2, [a.golem] + common + ["--batch", "8"], {"GOMAXPROCS": "1"}))))
    one.sort()
    two.sort()
    print(f"bench: train-dp-tokens golem-1rank={one[len(one) // 2]:.0f} golem-2ranks={two[len(two) // 2]:.0f} "
          f"ratio={two[len(two) // 2] / one[len(one) // 2]:.2f} (tokens/s, baby GPT char-level Opticks, global batch 16×64, "
          f"{a.steps} steps, median of {a.rounds}; 1 rank on all cores, 2 ranks with GOMAXPROCS=1 each)", flush=True)

    # 2. the all-reduce of GPT-2 124M's gradients, golem then PyTorch DDP (gloo), rounds interleaved.
    g, p = [], []
    for _ in range(a.rounds):
        out = run(mpirun(2, [a.benchdp, "-floats", str(GPT2_FLOATS), "-iters", str(a.iters)]))
        r = json.loads(out.strip().splitlines()[-1])
        g.append(r["median_ms"])
        ms, pr = ddp_allreduce(GPT2_FLOATS, a.iters)
        p.append(ms)
        print(f"# round: golem {r['median_ms']:.0f} ms ({r['engine']}, {r['buckets']} buckets), "
              f"pytorch DDP gloo {ms:.0f} ms (torch {pr['torch']})", flush=True)
    g.sort()
    p.sort()
    gm, pm = g[len(g) // 2], p[len(p) // 2]
    print(f"bench: allreduce-gpt2 golem={gm:.0f} pytorch={pm:.0f} ratio={pm / gm:.2f} "
          f"(ms per step, 124,439,808 float32 gradients, 2 ranks on the same cores, 25 MB buckets, median of {a.rounds}×{a.iters})")


if __name__ == "__main__":
    main()
