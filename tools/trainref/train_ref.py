"""PyTorch reference for golem's "it learns" check (issue 5).

Trains a GPT-2 of the same architecture as lmlib/gpt (token + learned position
embeddings, pre-LayerNorm blocks, causal self-attention, tanh-GELU MLP, final
LayerNorm, tied output weights, eps 1e-5) with the same recipe as lmlib/train
(AdamW with decay on 2-D weights only, nanoGPT's warmup + cosine schedule, global
norm clipping as torch.nn.utils.clip_grad_norm_), starting from golem's initial
weights and feeding golem's batches in golem's order, both dumped by
`go test ./lmlib/train -run TestLearnsOpticksLikePyTorch` with GOLEM_TRAINREF_DUMP
set (tools/trainref/run.sh does both steps).

usage: python train_ref.py --dump DIR --out CURVE.json
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file


class Linear(nn.Module):
    """y = x @ weight + bias with weight stored (in, out), as GPT-2 / golem store it."""

    def __init__(self, n_in, n_out, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.empty(n_out)) if bias else None

    def forward(self, x):
        y = x @ self.weight
        return y + self.bias if self.bias is not None else y


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c["Heads"]
        self.c_attn = Linear(c["Width"], 3 * c["Width"], c["Bias"])
        self.c_proj = Linear(c["Width"], c["Width"], c["Bias"])

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        hs = C // self.heads
        q, k, v = (t.view(B, T, self.heads, hs).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = Linear(c["Width"], 4 * c["Width"], c["Bias"])
        self.c_proj = Linear(4 * c["Width"], c["Width"], c["Bias"])

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["Width"], eps=1e-5, bias=c["Bias"])
        self.attn = Attention(c)
        self.ln_2 = nn.LayerNorm(c["Width"], eps=1e-5, bias=c["Bias"])
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Parameter(torch.empty(c["VocabSize"], c["Width"]))
        self.wpe = nn.Parameter(torch.empty(c["ContextLen"], c["Width"]))
        self.h = nn.ModuleList(Block(c) for _ in range(c["Layers"]))
        self.ln_f = nn.LayerNorm(c["Width"], eps=1e-5, bias=c["Bias"])

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.wte[idx] + self.wpe[:T]
        for b in self.h:
            x = b(x)
        logits = self.ln_f(x) @ self.wte.t()
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


def lr_at(step, o):
    """lmlib/train Options.LRAt: nanoGPT's get_lr with it = step-1."""
    it = step - 1
    if it < o["warmup_steps"]:
        return o["lr"] * (it + 1) / (o["warmup_steps"] + 1)
    if it > o["decay_steps"] or o["decay_steps"] <= o["warmup_steps"]:
        return o["min_lr"]
    ratio = (it - o["warmup_steps"]) / (o["decay_steps"] - o["warmup_steps"])
    return o["min_lr"] + 0.5 * (1 + math.cos(math.pi * ratio)) * (o["lr"] - o["min_lr"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    meta = json.load(open(f"{a.dump}/meta.json"))
    c, o, B, T, steps = meta["config"], meta["options"], meta["b"], meta["t"], meta["steps"]
    assert c["Dropout"] == 0, "the reference runs without dropout"
    model = GPT(c)
    state = load_file(f"{a.dump}/init.safetensors")
    model.load_state_dict(state, strict=True)
    train = torch.from_numpy(np.fromfile(f"{a.dump}/train_batches.u8", dtype=np.uint8).astype(np.int64)).view(-1, B, T + 1)
    val = torch.from_numpy(np.fromfile(f"{a.dump}/val_batches.u8", dtype=np.uint8).astype(np.int64)).view(-1, B, T + 1)
    accum = o["grad_accum"]
    assert train.shape[0] == steps * accum and val.shape[0] == o["eval_batches"]

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    wd = max(o["weight_decay"], 0.0)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])

    def evaluate():
        model.eval()
        with torch.no_grad():
            losses = [model(b[:, :T], b[:, 1:]).item() for b in val]
        model.train()
        return sum(losses) / len(losses)

    curve_train, curve_eval = [], []
    t0 = time.time()
    for step in range(1, steps + 1):
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for micro in range(accum):
            b = train[(step - 1) * accum + micro]
            loss = model(b[:, :T], b[:, 1:]) / accum
            loss.backward()
            total += loss.item()
        if o["grad_clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), o["grad_clip"])
        for g in opt.param_groups:
            g["lr"] = lr_at(step, o)
        opt.step()
        curve_train.append([step, total])
        if step % o["eval_every"] == 0 or step == steps:
            v = evaluate()
            curve_eval.append([step, v])
            print(f"step {step} loss {total:.4f} val {v:.4f} {time.time() - t0:.0f}s", flush=True)
    out = dict(meta, source="tools/trainref/train_ref.py", torch=torch.__version__,
               train=curve_train, evals=curve_eval)
    try:
        out["golem"] = json.load(open(f"{a.dump}/golem_curve.json"))
    except FileNotFoundError:
        pass
    with open(a.out, "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
