"""PyTorch reference for golem's modern recipe (lmlib/gpt Config switches Rotary, RMSNorm, QKNorm, ReLU2,
Untied, SoftCap, and the Muon step): regenerates lmlib/gpt/testdata/recipe_*.safetensors.gz.

For each case it draws float32 weights and a batch from a fixed seed, then computes in float64:
logits, loss, every parameter gradient, and the parameters after two optimizer steps on that gradient
(Muon, torch.optim.Muon's update, on the blocks' 2-D matrices; torch.optim.AdamW on the rest, with
embeddings and the head decayed and vectors not, as golem's train.Options{Optimizer: "muon"} groups
them). Everything is stored as float32 in one gzip-compressed safetensors file per case with the
config in the metadata, so the Go test (recipe_parity_test.go) needs no PyTorch.

The model is written here from its definition (modded-nanogpt's and nanochat's block, Hugging Face
tensor names, golem's Conv1D (in, out) layout): F.rms_norm with a weight and eps 1e-6, QK-norm as a
parameter-free F.rms_norm over each head, RoPE with theta 10000 in Llama's rotate_half form,
relu(x)^2, an untied lm_head, softcap * tanh(logits / softcap). The Muon step is torch.optim.Muon's
algorithm on the PyTorch-layout (out, in) = W^T matrix, in float64; the script also runs
torch.optim.Muon itself (float32, as shipped) on the same gradient and prints how far it is from the
float64 reference.

Run: .venv/bin/python tools/torchref/recipe_ref.py [--out lmlib/gpt/testdata]   (make gpt-torchref)
"""
import argparse
import gzip
import json
import math
import os
import tempfile

import torch
import torch.nn.functional as F
from safetensors.torch import save

THETA, EPS = 10000.0, 1e-6
NS = (3.4445, -4.7750, 2.0315)

CASES = [
    # name, config, B, T, ignore some targets
    ("modern", dict(VocabSize=65, ContextLen=16, Layers=2, Heads=2, Width=32, Bias=False, Rotary=True, RMSNorm=True,
                    QKNorm=True, ReLU2=True, Untied=True, SoftCap=15.0), 2, 16, True),
    ("mixed", dict(VocabSize=65, ContextLen=16, Layers=2, Heads=4, Width=32, Bias=True, Rotary=False, RMSNorm=True,
                   QKNorm=True, ReLU2=False, Untied=True, SoftCap=0.0), 2, 12, False),
    ("rope_layernorm", dict(VocabSize=65, ContextLen=16, Layers=1, Heads=2, Width=32, Bias=True, Rotary=True,
                            RMSNorm=False, QKNorm=False, ReLU2=True, Untied=False, SoftCap=5.0), 3, 9, False),
]
# Two steps on the same gradient, so the second exercises the momentum buffers. AdamW eps 1e-6
# for the reason given in gpt_ref.py.
MUON = dict(lr=0.02, momentum=0.95, nesterov=True, weight_decay=0.01, ns_steps=5)
ADAMW = dict(lr=1e-3, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)


def specs(c):
    V, T, L, C = c["VocabSize"], c["ContextLen"], c["Layers"], c["Width"]
    s = [("wte", (V, C), "embedding")]
    if not c["Rotary"]:
        s.append(("wpe", (T, C), "embedding"))
    for l in range(L):
        p = f"h.{l}."
        s += [(p + "ln_1.weight", (C,), "vector"), (p + "ln_1.bias", (C,), "normbias"),
              (p + "attn.c_attn.weight", (C, 3 * C), "matrix"), (p + "attn.c_attn.bias", (3 * C,), "bias"),
              (p + "attn.c_proj.weight", (C, C), "matrix"), (p + "attn.c_proj.bias", (C,), "bias"),
              (p + "ln_2.weight", (C,), "vector"), (p + "ln_2.bias", (C,), "normbias"),
              (p + "mlp.c_fc.weight", (C, 4 * C), "matrix"), (p + "mlp.c_fc.bias", (4 * C,), "bias"),
              (p + "mlp.c_proj.weight", (4 * C, C), "matrix"), (p + "mlp.c_proj.bias", (C,), "bias")]
    s += [("ln_f.weight", (C,), "vector"), ("ln_f.bias", (C,), "normbias")]
    if c["Untied"]:
        s.append(("lm_head.weight", (V, C), "head"))
    keep = []
    for name, shape, kind in s:
        if kind == "bias" and not c["Bias"]:
            continue
        if kind == "normbias" and (not c["Bias"] or c["RMSNorm"]):
            continue
        keep.append((name, shape, "vector" if kind in ("bias", "normbias") else kind))
    return keep


def init_params(sp, gen):
    """Random weights (norm weights around 1, small biases), not an init recipe."""
    P = {}
    for name, shape, kind in sp:
        if "ln_" in name and name.endswith(".weight"):
            t = 1 + 0.1 * torch.randn(shape, generator=gen)
        elif kind == "vector":
            t = 0.05 * torch.randn(shape, generator=gen)
        elif kind == "embedding":
            t = 0.5 * torch.randn(shape, generator=gen)
        else:
            t = 0.08 * torch.randn(shape, generator=gen)
        P[name] = t.float()
    return P


def rope_tables(T, hs, dtype):
    inv = THETA ** (-torch.arange(0, hs, 2, dtype=torch.float64) / hs)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
    return ang.cos().to(dtype), ang.sin().to(dtype)


def rope(x, cos, sin):  # x (B, NH, T, hs); Llama's rotate_half convention
    d = x.shape[-1] // 2
    x1, x2 = x[..., :d], x[..., d:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def forward(P, idx, tgt, c):
    B, T = idx.shape
    C, NH, L = c["Width"], c["Heads"], c["Layers"]
    hs = C // NH
    bias = c["Bias"]

    def norm(x, w, b):
        if c["RMSNorm"]:
            return F.rms_norm(x, (C,), w, eps=EPS)
        return F.layer_norm(x, (C,), w, b, eps=1e-5)

    def lin(x, name):
        y = x @ P[name + ".weight"]
        return y + P[name + ".bias"] if bias else y

    get = lambda n: P.get(n)
    x = P["wte"][idx]
    if not c["Rotary"]:
        x = x + P["wpe"][:T]
    cos, sin = rope_tables(T, hs, x.dtype)
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        p = f"h.{l}."
        h = norm(x, P[p + "ln_1.weight"], get(p + "ln_1.bias"))
        q, k, v = lin(h, p + "attn.c_attn").split(C, dim=2)
        q, k, v = (t.view(B, T, NH, hs).transpose(1, 2) for t in (q, k, v))
        if c["QKNorm"]:
            q, k = F.rms_norm(q, (hs,), eps=EPS), F.rms_norm(k, (hs,), eps=EPS)
        if c["Rotary"]:
            q, k = rope(q, cos, sin), rope(k, cos, sin)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + lin(y, p + "attn.c_proj")
        h = lin(norm(x, P[p + "ln_2.weight"], get(p + "ln_2.bias")), p + "mlp.c_fc")
        h = F.relu(h).square() if c["ReLU2"] else F.gelu(h, approximate="tanh")
        x = x + lin(h, p + "mlp.c_proj")
    x = norm(x, P["ln_f.weight"], get("ln_f.bias"))
    logits = x @ (P["lm_head.weight"] if c["Untied"] else P["wte"]).T
    if c["SoftCap"] > 0:
        logits = c["SoftCap"] * torch.tanh(logits / c["SoftCap"])
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-1)
    return logits, loss


def newton_schulz(G, steps):
    """torch.optim.Muon's _zeropower_via_newtonschulz without the bfloat16 cast (float64 here)."""
    a, b, c = NS
    X = G.clone()
    if G.size(0) > G.size(1):
        X = X.T
    X = X / X.norm().clamp(min=1e-7)
    for _ in range(steps):
        A = X @ X.T
        B = torch.addmm(A, A, A, beta=b, alpha=c)
        X = torch.addmm(X, B, X, beta=a)
    if G.size(0) > G.size(1):
        X = X.T
    return X


def muon_step(p, g, buf, lr, momentum, nesterov, wd, steps):
    """One torch.optim.Muon step on p (out, in) with gradient g, in place."""
    buf.lerp_(g, 1 - momentum)
    u = g.lerp(buf, momentum) if nesterov else buf
    X = newton_schulz(u, steps)
    A, B = p.shape
    adjusted = lr * math.sqrt(max(1, A / B))
    p.mul_(1 - lr * wd)
    p.add_(X, alpha=-adjusted)


def run(P32, idx, tgt, c, sp, dtype):
    P = {k: v.to(dtype).clone().requires_grad_(True) for k, v in P32.items()}
    logits, loss = forward(P, idx, tgt, c)
    loss.backward()
    grads = {k: v.grad.detach().clone() for k, v in P.items()}
    kind = {name: k for name, _, k in sp}
    others = [n for n in P if kind[n] != "matrix"]
    decay = [P[n] for n in others if kind[n] != "vector"]
    nodecay = [P[n] for n in others if kind[n] == "vector"]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": ADAMW["weight_decay"]},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])
    bufs = {n: torch.zeros_like(P[n]).T for n in P if kind[n] == "matrix"}
    afters = []
    with torch.no_grad():
        for _ in range(2):
            for n, v in P.items():
                v.grad = grads[n].clone()
            opt.step()
            for n in bufs:  # golem stores W (in, out); PyTorch's Linear weight is W^T (out, in)
                w = P[n].T.clone()
                muon_step(w, grads[n].T.clone(), bufs[n], MUON["lr"], MUON["momentum"], MUON["nesterov"],
                          MUON["weight_decay"], MUON["ns_steps"])
                P[n].copy_(w.T)
            afters.append({k: v.detach().clone() for k, v in P.items()})
    return logits.detach(), loss.detach(), grads, afters


def torch_muon_check(P32, grads, sp):
    """torch.optim.Muon as shipped (float32) on the same gradients against the float64 reference."""
    if not hasattr(torch.optim, "Muon"):
        return None
    kind = {name: k for name, _, k in sp}
    worst = 0.0
    for n in P32:
        if kind[n] != "matrix":
            continue
        w = torch.nn.Parameter(P32[n].T.clone().contiguous())
        opt = torch.optim.Muon([w], lr=MUON["lr"], momentum=MUON["momentum"], nesterov=MUON["nesterov"],
                               weight_decay=MUON["weight_decay"], ns_steps=MUON["ns_steps"])
        ref = P32[n].T.double().clone()
        buf = torch.zeros_like(ref)
        for _ in range(2):
            w.grad = grads[n].T.float().contiguous()
            opt.step()
            muon_step(ref, grads[n].T.double(), buf, MUON["lr"], MUON["momentum"], MUON["nesterov"],
                      MUON["weight_decay"], MUON["ns_steps"])
        upd = ref - P32[n].T.double()  # compare the updates, not the parameters
        worst = max(worst, ((w.detach().double() - P32[n].T.double() - upd).abs().max() / upd.abs().max()).item())
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "lmlib", "gpt", "testdata"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    for i, (name, c, B, T, ignore) in enumerate(CASES):
        gen = torch.Generator().manual_seed(4321 + i)
        sp = specs(c)
        P32 = init_params(sp, gen)
        idx = torch.randint(0, c["VocabSize"], (B, T), generator=gen)
        tgt = torch.randint(0, c["VocabSize"], (B, T), generator=gen)
        if ignore:
            tgt[0, :3] = -1
            tgt[1, -1] = -1
        logits, loss, grads, afters = run(P32, idx, tgt, c, sp, torch.float64)
        l32, _, g32, a32 = run(P32, idx, tgt, c, sp, torch.float32)
        rel = lambda a, b: ((a.double() - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()
        upd = lambda a, k: rel(a[k] - P32[k].double(), afters[1][k] - P32[k].double())
        print(f"case {name}: loss {loss.item():.6f}; torch float32 vs float64: logits and gradients "
              f"{max([rel(l32, logits)] + [rel(g32[k], grads[k]) for k in grads]):.3g}, "
              f"update after two steps {max(upd(a32[1], k) for k in grads):.3g}")
        tm = torch_muon_check(P32, grads, sp)
        if tm is not None:
            print(f"  torch.optim.Muon (float32, as shipped) vs the float64 reference: update {tm:.3g}")
        tensors = {"tokens": idx.to(torch.int32).contiguous(), "targets": tgt.to(torch.int32).contiguous(),
                   "logits": logits.float().contiguous(), "loss": loss.float().reshape(1)}
        for k in P32:
            tensors["param/" + k] = P32[k].contiguous()
            tensors["grad/" + k] = grads[k].float().contiguous()
            tensors["after1/" + k] = afters[0][k].float().contiguous()
            tensors["after2/" + k] = afters[1][k].float().contiguous()
        meta = {"config": json.dumps(c), "batch": json.dumps(dict(B=B, T=T)),
                "muon": json.dumps(MUON),
                "adamw": json.dumps(dict(lr=ADAMW["lr"], beta1=ADAMW["betas"][0], beta2=ADAMW["betas"][1],
                                         eps=ADAMW["eps"], weight_decay=ADAMW["weight_decay"])),
                "generator": f"tools/torchref/recipe_ref.py, torch {torch.__version__}, float64"}
        data = gzip.compress(save(tensors, metadata=meta), compresslevel=9, mtime=0)
        path = os.path.join(args.out, f"recipe_{name}.safetensors.gz")
        fd, tmp = tempfile.mkstemp(dir=args.out)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        print(f"  wrote {path} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
