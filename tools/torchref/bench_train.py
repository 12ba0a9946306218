"""`make bench-train`: golem's GPT training step against PyTorch eager on the same cores, in one run.

For each config (baby: 4 layers/4 heads/128 wide, T=64, B=12; small: 6/6/384, T=256, B=16; vocab 65;
and baby-modern, small-modern: the same shapes with the modern recipe)
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
torch.optim.AdamW(fused=True) when available, torch.set_num_threads(2); for the -modern configs
the modern recipe (modern_model: F.rms_norm, RoPE, QK-norm, ReLU², untied head, soft-cap) with
torch.optim.Muon on the blocks' matrices and fused AdamW on the rest. Every config runs both
eagerly and through torch.compile (inductor, CPU), which prints a second line
(train-cpu-NAME-compile ... torch_compile=...). Peak memory is each process's maximum resident
set size (wait4).
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
    # The modern recipe at the same shapes (golem's gpt.Preset switches; tools/benchtrain's
    # baby-modern and small-modern): RoPE, RMSNorm, QK-norm, ReLU², untied head, soft-cap 15,
    # no biases; Muon on the blocks' matrices, AdamW on the rest.
    "baby-modern": dict(V=65, T=64, L=4, NH=4, C=128, B=12, modern=True),
    "small-modern": dict(V=65, T=256, L=6, NH=6, C=384, B=16, modern=True),
}


def modern_model(torch, nn, F, V, T, L, NH, C):
    """The modern recipe as PyTorch users write it (modded-nanogpt, nanochat): F.rms_norm, rotary
    embeddings in Llama's rotate_half form, QK-norm, F.scaled_dot_product_attention, ReLU²,
    an untied head with a tanh soft-cap."""
    hs = C // NH
    inv = 10000.0 ** (-torch.arange(0, hs, 2, dtype=torch.float32) / hs)
    ang = torch.arange(T, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = ang.cos()[None, :, None, :], ang.sin()[None, :, None, :]

    def rope(x):
        d = x.shape[-1] // 2
        x1, x2 = x[..., :d], x[..., d:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.RMSNorm(C, eps=1e-6), nn.RMSNorm(C, eps=1e-6)
            self.c_attn, self.c_proj = nn.Linear(C, 3 * C, bias=False), nn.Linear(C, C, bias=False)
            self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C, bias=False), nn.Linear(4 * C, C, bias=False)

        def forward(self, x):
            Bn, Tn, _ = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
            q = rope(F.rms_norm(q.view(Bn, Tn, NH, hs), (hs,), eps=1e-6))
            k = rope(F.rms_norm(k.view(Bn, Tn, NH, hs), (hs,), eps=1e-6))
            v = v.view(Bn, Tn, NH, hs)
            y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True)
            x = x + self.c_proj(y.transpose(1, 2).contiguous().view(Bn, Tn, C))
            return x + self.mlp_proj(F.relu(self.c_fc(self.ln_2(x))).square())

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(V, C)
            self.h = nn.ModuleList(Block() for _ in range(L))
            self.ln_f = nn.RMSNorm(C, eps=1e-6)
            self.lm_head = nn.Linear(C, V, bias=False)
            for n, p in self.named_parameters():
                if p.dim() >= 2:
                    std = 0.02 / math.sqrt(2 * L) if n.endswith(("c_proj.weight", "mlp_proj.weight")) else 0.02
                    nn.init.normal_(p, 0, std)

        def forward(self, idx, tgt):
            x = self.wte(idx)
            for blk in self.h:
                x = blk(x)
            logits = self.lm_head(self.ln_f(x))
            logits = 15 * torch.tanh(logits / 15)
            return F.cross_entropy(logits.view(-1, V), tgt.view(-1))

    return GPT()


def torch_worker(name, warmup, threads, compile_model=False):
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

    modern = c.get("modern", False)
    model = modern_model(torch, nn, F, V, T, L, NH, C) if modern else GPT()
    params = list(model.parameters())
    opts, fused = [], False
    if modern:
        # Muon (torch.optim.Muon, PyTorch >= 2.9) for the blocks' 2-D weights, AdamW for the rest,
        # as golem's train.Options{Optimizer: "muon"}.
        matrices = [p for n, p in model.named_parameters() if n.startswith("h.") and p.dim() == 2]
        rest = [p for n, p in model.named_parameters() if not (n.startswith("h.") and p.dim() == 2)]
        opts.append(torch.optim.Muon(matrices, lr=0.02, momentum=0.95, nesterov=True, weight_decay=0.0))
        adam_groups = [{"params": rest, "weight_decay": 0.0}]
        betas = (0.8, 0.95)
    else:
        adam_groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                       {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
        betas = (0.9, 0.95)
    try:
        opts.append(torch.optim.AdamW(adam_groups, lr=1e-3, betas=betas, eps=1e-8, fused=True))
        fused = True
    except (RuntimeError, TypeError):
        opts.append(torch.optim.AdamW(adam_groups, lr=1e-3, betas=betas, eps=1e-8))
    fwd = torch.compile(model) if compile_model else model  # inductor, the default backend
    g = torch.Generator().manual_seed(2)
    idx = torch.randint(0, V, (B, T), generator=g)
    tgt = (idx + 1) % V

    def step():
        loss = fwd(idx, tgt)
        for o in opts:
            o.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        for o in opts:
            o.step()
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
                          torch=torch.__version__, threads=torch.get_num_threads(), fused_adamw=fused,
                          compiled=compile_model)), flush=True)


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


def cpu_model():
    """lscpu's "Model name" (from /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", choices=["torch"])
    ap.add_argument("--golem", default="bin/benchtrain", help="the tools/benchtrain binary")
    ap.add_argument("--configs", default="baby,small,baby-modern,small-modern")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--verbose", action="store_true", help="print every round")
    ap.add_argument("--config", default="baby")
    ap.add_argument("--compile", action="store_true", help="worker: run the model through torch.compile")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile side")
    a = ap.parse_args()
    if a.worker:
        torch_worker(a.config, a.warmup, a.threads, a.compile)
        return
    print(f"  cpu: {cpu_model()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}", flush=True)
    for name in a.configs.split(","):
        # Baby rounds of 16 steps (~0.3 s of golem, ~0.6 s of PyTorch): at 6 steps (0.1 s) one
        # scheduling hiccup of the shared machine moved a side's figure by 5-10%.
        rounds, per = (8, 16) if name.startswith("baby") else (4, 1)
        env = dict(os.environ, GOMAXPROCS=str(a.threads))
        g = Worker([a.golem, "-config", name, "-serve", "-sgemm", "2048", "-warmup", str(a.warmup)], env)
        tcmd = [sys.executable, __file__, "--worker", "torch", "--config", name, "--threads", str(a.threads),
                "--warmup", str(a.warmup)]
        # PyTorch eager, and (unless --no-compile) the same model through torch.compile (inductor),
        # each twice: OpenMP's default wait policy (threads spin a while before sleeping) and
        # OMP_WAIT_POLICY=PASSIVE. On a loaded machine spinning threads collapse (10-20x slower);
        # the better of the two is reported.
        env_default = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        env_passive = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
        tws = {("eager", "default"): Worker(tcmd, env_default), ("eager", "passive"): Worker(tcmd, env_passive)}
        if not a.no_compile:
            tws[("compile", "default")] = Worker(tcmd + ["--compile"], env_default)
            tws[("compile", "passive")] = Worker(tcmd + ["--compile"], env_passive)
        # Wait until every process has imported, compiled and warmed up ("steps 0" answers only
        # then): otherwise the first timed round of one side runs beside the start-up of the others.
        for w in [g, *tws.values()]:
            w.ask("steps 0")
        load0 = os.getloadavg()[0]
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
        sgemm = sorted(sg)[len(sg) // 2]
        model_flops = gs["tok_s"] * gs["flops_per_token"]
        # CPU time per step (user+system, all threads): what a step costs whatever the load.
        g_ms = 1e3 * gcpu / gs["steps"]
        load = f"load {load0:.1f}-{os.getloadavg()[0]:.1f}"
        for mode, peer in (("eager", "pytorch"), ("compile", "torch_compile")):
            ks = [k for k in tres if k[0] == mode]
            if not ks:
                continue
            best = max(ks, key=lambda k: tres[k][0]["tok_s"])
            ts, trss = tres[best]
            other = [tres[k][0]["tok_s"] for k in ks if k != best]
            t_ms = 1e3 * tcpu[best] / ts["steps"]
            suffix = "" if mode == "eager" else "-compile"
            print(f"bench: train-cpu-{name}{suffix} golem={gs['tok_s']:.0f} {peer}={ts['tok_s']:.0f} "
                  f"ratio={gs['tok_s'] / ts['tok_s']:.2f} mfu={model_flops / sgemm:.2f} "
                  f"golem_rss={grss:.0f}MiB {peer}_rss={trss:.0f}MiB "
                  f"cpu_ms_per_step golem={g_ms:.0f} {peer}={t_ms:.0f} cpu_ratio={t_ms / g_ms:.2f}", flush=True)
            print(f"  {name} vs {peer}: tok/s over {gs['steps']} steps each, {rounds} interleaved rounds ({load}); loss golem "
                  f"{gs['loss']:.3f} {peer} {ts['loss']:.3f}; golem {model_flops / 1e9:.1f} GFLOP/s model "
                  f"({gs['flops_per_token'] / 1e6:.1f} MFLOP/token); OpenBLAS sgemm 2048x2048 on 2 threads (best of OpenBLAS threading and 2 goroutines): median "
                  f"{sgemm / 1e9:.1f} GFLOP/s (min {min(sg) / 1e9:.1f}, max {max(sg) / 1e9:.1f}); "
                  f"torch {ts['torch']}, fused AdamW {ts['fused_adamw']}, OpenMP wait policy {best[1]} "
                  f"(the other policy: {', '.join(f'{x:.0f}' for x in other)} tok/s); golem's BLAS: {gs.get('blas', '?')}", flush=True)


if __name__ == "__main__":
    main()
