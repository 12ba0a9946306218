"""PyTorch half of `bench: train-gpu-gpt2`: a nanoGPT-style GPT-2 124M training step
(bf16 autocast, TF32 matmuls, fused AdamW, torch.compile where it works) at the same
batch shape as golem-gpucheck bench. Prints one JSON line like golem's.

usage: python3 torch_gpt2_bench.py [--B 8] [--T 1024] [--steps 10] [--warmup 3] [--no-compile] [--device cpu]
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, NH):
        super().__init__()
        self.NH = NH
        self.ln_1 = nn.LayerNorm(C)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.c_fc = nn.Linear(C, 4 * C)
        self.mlp_proj = nn.Linear(4 * C, C)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.NH, C // self.NH).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V=50257, ctx=1024, L=12, NH=12, C=768):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(ctx, C)
        self.h = nn.ModuleList(Block(C, NH) for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        self.lm_head = nn.Linear(C, V, bias=False)
        self.lm_head.weight = self.wte.weight  # tied, as GPT-2 and golem
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith(("c_proj.weight", "mlp_proj.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        for b in self.h:
            x = b(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.view(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--B", type=int, default=8)
    ap.add_argument("--T", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--peak", type=float, default=989.4e12)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--device", default="cuda", help="cpu only for a smoke test of this script")
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    dev = a.device
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    model = GPT().to(dev)
    nparams = sum(p.numel() for p in model.parameters())
    flops_per_token = 6 * (nparams - model.wpe.weight.numel()) + 12 * 12 * 768 * a.T
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=6e-4, betas=(0.9, 0.95), eps=1e-8, fused=dev == "cuda")
    compiled = False
    run = model
    if not a.no_compile:
        try:
            run = torch.compile(model)
            compiled = True
        except Exception as e:  # compile is best effort, as the issue says
            print(f"torch.compile unavailable: {e}", file=sys.stderr)
    x = torch.randint(0, 50257, (a.B, a.T), device=dev)
    y = torch.randint(0, 50257, (a.B, a.T), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type=dev, dtype=torch.bfloat16):
            loss = run(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    try:
        t0 = time.time()
        for _ in range(a.warmup):
            step()
        sync()
        warm_s = time.time() - t0
    except Exception as e:
        if not compiled:
            raise
        print(f"torch.compile failed, running eager: {e}", file=sys.stderr)
        run, compiled = model, False
        for _ in range(a.warmup):
            step()
        sync()
        warm_s = None
    t0 = time.time()
    for _ in range(a.steps):
        loss = step()
    sync()
    sec = (time.time() - t0) / a.steps
    tps = a.B * a.T / sec
    print(json.dumps({"device": torch.cuda.get_device_name() if dev == "cuda" else "cpu", "torch": torch.__version__, "compiled": compiled,
                      "B": a.B, "T": a.T, "step_ms": sec * 1e3, "tokens_per_s": tps, "warmup_s": warm_s,
                      "flops_per_token": flops_per_token, "mfu": flops_per_token * tps / a.peak, "loss": loss.item()}))


if __name__ == "__main__":
    main()
