"""`make bench-train`: golem's GPT training step against PyTorch eager on the same cores, in one run.

For each config (baby: 4 layers/4 heads/128 wide, T=64, B=12; small: 6/6/384, T=256, B=16; vocab 65)
it starts golem (tools/benchtrain -serve) and PyTorch (this script with --worker) as two processes
and alternates timed rounds of training steps (forward + backward + grad-norm clipping + AdamW)
between them, with an OpenBLAS sgemm measurement after each round, so that load from other
processes on a shared machine falls on both alike. It prints

    bench: train-cpu-baby golem=<tok/s> pytorch=<tok/s> ratio=<golem/pytorch> golem_rss=<MiB> pytorch_rss=<MiB>
    bench: train-cpu-small ... mfu=<golem model FLOP/s / OpenBLAS sgemm FLOP/s>

and, on each line, the CPU time (user+system, all threads) per step of each side and their ratio
(cpu_ratio > 1: golem needs less CPU per step), which stays meaningful when other processes load
the machine and wall-clock figures swing.

The PyTorch side is nanoGPT's model as PyTorch users write it for speed on CPU: nn.Linear,
F.scaled_dot_product_attention(is_causal=True) (fused flash attention), tanh GELU, tied head,
torch.optim.AdamW(fused=True) when available, torch.set_num_threads(2). Peak memory is each
process's maximum resident set size (wait4).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

CONFIGS = {
    "baby": dict(V=65, T=64, L=4, NH=4, C=128, B=12),
    "small": dict(V=65, T=256, L=6, NH=6, C=384, B=16),
}


def torch_worker(name, warmup, threads):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    c = CONFIGS[name]
    V, T, L, NH, C, B = c["V"], c["T"], c["L"], c["NH"], c["C"], c["B"]

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
            self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

        def forward(self, x):
            Bn, Tn, _ = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
            q = q.view(Bn, Tn, NH, C // NH).transpose(1, 2)
            k = k.view(Bn, Tn, NH, C // NH).transpose(1, 2)
            v = v.view(Bn, Tn, NH, C // NH).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.c_proj(y.transpose(1, 2).contiguous().view(Bn, Tn, C))
            return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
            self.h = nn.ModuleList(Block() for _ in range(L))
            self.ln_f = nn.LayerNorm(C)
            self.lm_head = nn.Linear(C, V, bias=False)
            self.lm_head.weight = self.wte.weight
            for n, p in self.named_parameters():
                if p.dim() >= 2:
                    std = 0.02 / math.sqrt(2 * L) if n.endswith(("c_proj.weight", "mlp_proj.weight")) else 0.02
                    nn.init.normal_(p, 0, std)
                elif n.endswith("bias"):
                    nn.init.zeros_(p)

        def forward(self, idx, tgt):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for blk in self.h:
                x = blk(x)
            logits = self.lm_head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, V), tgt.view(-1))

    model = GPT()
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    try:
        opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.95), eps=1e-8, fused=True)
        fused = True
    except (RuntimeError, TypeError):
        opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
        fused = False
    g = torch.Generator().manual_seed(2)
    idx = torch.randint(0, V, (B, T), generator=g)
    tgt = (idx + 1) % V

    def step():
        loss = model(idx, tgt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    steps, dt, loss = 0, 0.0, float("nan")
    for line in sys.stdin:  # serve: "steps N" | "quit"
        f = line.split()
        if f == ["quit"]:
            break
        if len(f) != 2 or f[0] != "steps":
            sys.exit(f"torch worker: unknown command {line!r}")
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(int(f[1])):
            loss = step()
        d = time.perf_counter() - t0
        steps += int(f[1])
        dt += d
        print(d, time.process_time() - c0, flush=True)
    print(json.dumps(dict(config=name, steps=steps, seconds=dt, tok_s=steps * B * T / dt, loss=loss,
                          torch=torch.__version__, threads=torch.get_num_threads(), fused_adamw=fused)), flush=True)


class Worker:
    """A benchmark process driven over stdin/stdout."""

    def __init__(self, cmd, env=None):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)

    def ask(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            sys.exit(f"bench-train: {self.p.args[0]} died on {cmd!r}")
        return line

    def finish(self):
        """Sends quit; returns (summary JSON, peak RSS MiB)."""
        self.p.stdin.write("quit\n")
        self.p.stdin.close()
        out = self.p.stdout.read()
        _, status, ru = os.wait4(self.p.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"bench-train: {self.p.args} exited with {os.waitstatus_to_exitcode(status)}")
        return json.loads(out.strip().splitlines()[-1]), ru.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", choices=["torch"])
    ap.add_argument("--golem", default="bin/benchtrain", help="the tools/benchtrain binary")
    ap.add_argument("--configs", default="baby,small")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--verbose", action="store_true", help="print every round")
    ap.add_argument("--config", default="baby")
    a = ap.parse_args()
    if a.worker:
        torch_worker(a.config, a.warmup, a.threads)
        return
    for name in a.configs.split(","):
        # Baby rounds of 16 steps (~0.3 s of golem, ~0.6 s of PyTorch): at 6 steps (0.1 s) one
        # scheduling hiccup of the shared machine moved a side's figure by 5-10%.
        rounds, per = (8, 16) if name == "baby" else (4, 1)
        env = dict(os.environ, GOMAXPROCS=str(a.threads))
        g = Worker([a.golem, "-config", name, "-serve", "-sgemm", "2048", "-warmup", str(a.warmup)], env)
        tcmd = [sys.executable, __file__, "--worker", "torch", "--config", name, "--threads", str(a.threads),
                "--warmup", str(a.warmup)]
        # PyTorch twice: OpenMP's default wait policy (threads spin a while before sleeping) and
        # OMP_WAIT_POLICY=PASSIVE. On a loaded machine spinning threads collapse (10-20x slower);
        # the better of the two is reported.
        env_default = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        tws = {"default": Worker(tcmd, env_default),
               "passive": Worker(tcmd, dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))}
        # Wait until every process has imported and warmed up ("steps 0" answers only then):
        # otherwise the first timed round of one side runs beside the start-up of the others.
        for w in [g, *tws.values()]:
            w.ask("steps 0")
        # Rounds alternate golem, PyTorch and the reference sgemm, so load from other
        # processes on a shared machine falls on both sides alike.
        sg, gcpu, tcpu = [], 0.0, {k: 0.0 for k in tws}
        for r in range(rounds):
            gt, gc = map(float, g.ask(f"steps {per}").split())
            gcpu += gc
            tt = {}
            for k, w in tws.items():
                wall, cpu = map(float, w.ask(f"steps {per}").split())
                tt[k] = wall
                tcpu[k] += cpu
            sg.append(float(g.ask("sgemm")))
            if a.verbose:
                print(f"  round {r}: golem {gt:.3f}s pytorch {tt} sgemm {sg[-1] / 1e9:.1f} GFLOP/s", flush=True)
        gs, grss = g.finish()
        tres = {k: w.finish() for k, w in tws.items()}
        policy = max(tres, key=lambda k: tres[k][0]["tok_s"])
        ts, trss = tres[policy]
        other = tres["default" if policy == "passive" else "passive"][0]["tok_s"]
        sgemm = sorted(sg)[len(sg) // 2]
        model_flops = gs["tok_s"] * gs["flops_per_token"]
        # CPU time per step (user+system, all threads): what a step costs whatever the load.
        g_ms = 1e3 * gcpu / gs["steps"]
        t_ms = 1e3 * tcpu[policy] / ts["steps"]
        print(f"bench: train-cpu-{name} golem={gs['tok_s']:.0f} pytorch={ts['tok_s']:.0f} "
              f"ratio={gs['tok_s'] / ts['tok_s']:.2f} mfu={model_flops / sgemm:.2f} "
              f"golem_rss={grss:.0f}MiB pytorch_rss={trss:.0f}MiB "
              f"cpu_ms_per_step golem={g_ms:.0f} pytorch={t_ms:.0f} cpu_ratio={t_ms / g_ms:.2f}", flush=True)
        print(f"  {name}: tok/s over {gs['steps']} steps each, {rounds} interleaved rounds; loss golem "
              f"{gs['loss']:.3f} pytorch {ts['loss']:.3f}; golem {model_flops / 1e9:.1f} GFLOP/s model "
              f"({gs['flops_per_token'] / 1e6:.1f} MFLOP/token); OpenBLAS sgemm 2048x2048 on 2 threads (best of OpenBLAS threading and 2 goroutines): median "
              f"{sgemm / 1e9:.1f} GFLOP/s (min {min(sg) / 1e9:.1f}, max {max(sg) / 1e9:.1f}); "
              f"torch {ts['torch']}, fused AdamW {ts['fused_adamw']}, OpenMP wait policy {policy} "
              f"(the other policy: {other:.0f} tok/s); golem's BLAS: {gs.get('blas', '?')}", flush=True)


if __name__ == "__main__":
    main()
