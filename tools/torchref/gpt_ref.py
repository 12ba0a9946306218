"""PyTorch reference for golem's GPT-2 (lmlib/gpt): regenerates lmlib/gpt/testdata/*.safetensors.gz.

For each small case it draws weights (float32) and a batch from a fixed seed, then computes with
PyTorch in float64: the logits, the loss, every parameter gradient and the parameters after one
torch.optim.AdamW step (no-decay group for biases and LayerNorm weights, as nanoGPT). Everything
is stored as float32 in one gzip-compressed safetensors file per case, with the config in the
metadata, so the Go test (parity_test.go) needs no PyTorch.

The model is written out here (same architecture, Hugging Face GPT-2 tensor names and Conv1D
layout); for the case with biases it is also cross-checked against transformers' GPT2LMHeadModel.

Run: .venv/bin/python tools/torchref/gpt_ref.py [--out lmlib/gpt/testdata]
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

CASES = [
    # name, vocab, context, layers, heads, width, bias, B, T, ignore some targets
    ("bias", 65, 16, 2, 2, 32, True, 2, 16, False),
    ("nobias", 65, 16, 2, 2, 32, False, 2, 12, True),
]
# eps 1e-6, not the usual 1e-8: Adam's first step maps a gradient g to about g/(|g|+eps), so with
# eps=1e-8 a gradient of ~1e-8 (there are a few among thousands) turns its float32 rounding noise
# into a visible change of the parameter, in PyTorch's own float32 run as much as in golem's.
ADAMW = dict(lr=1e-3, betas=(0.9, 0.95), eps=1e-6, weight_decay=0.1)


def specs(V, Tmax, L, C, bias):
    s = [("wte", (V, C)), ("wpe", (Tmax, C))]
    for l in range(L):
        p = f"h.{l}."
        s += [(p + "ln_1.weight", (C,)), (p + "ln_1.bias", (C,)),
              (p + "attn.c_attn.weight", (C, 3 * C)), (p + "attn.c_attn.bias", (3 * C,)),
              (p + "attn.c_proj.weight", (C, C)), (p + "attn.c_proj.bias", (C,)),
              (p + "ln_2.weight", (C,)), (p + "ln_2.bias", (C,)),
              (p + "mlp.c_fc.weight", (C, 4 * C)), (p + "mlp.c_fc.bias", (4 * C,)),
              (p + "mlp.c_proj.weight", (4 * C, C)), (p + "mlp.c_proj.bias", (C,))]
    s += [("ln_f.weight", (C,)), ("ln_f.bias", (C,))]
    if not bias:
        s = [x for x in s if not x[0].endswith(".bias")]
    return s


def init_params(sp, gen):
    """Random weights, not GPT-2's init: biases and LayerNorm parameters are non-trivial too."""
    P = {}
    for name, shape in sp:
        if "ln_" in name and name.endswith(".weight"):
            t = 1 + 0.1 * torch.randn(shape, generator=gen)
        elif "ln_" in name:
            t = 0.05 * torch.randn(shape, generator=gen)
        else:
            t = 0.02 * torch.randn(shape, generator=gen)
        P[name] = t.float()
    return P


def forward(P, idx, tgt, L, NH, bias):
    B, T = idx.shape
    C = P["wte"].shape[1]
    hs = C // NH
    get = lambda n: P.get(n) if bias else None
    x = P["wte"][idx] + P["wpe"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        p = f"h.{l}."
        h = F.layer_norm(x, (C,), P[p + "ln_1.weight"], get(p + "ln_1.bias"), eps=1e-5)
        qkv = h @ P[p + "attn.c_attn.weight"]
        if bias:
            qkv = qkv + P[p + "attn.c_attn.bias"]
        q, k, v = qkv.split(C, dim=2)
        q = q.view(B, T, NH, hs).transpose(1, 2)
        k = k.view(B, T, NH, hs).transpose(1, 2)
        v = v.view(B, T, NH, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        y = y @ P[p + "attn.c_proj.weight"]
        if bias:
            y = y + P[p + "attn.c_proj.bias"]
        x = x + y
        h = F.layer_norm(x, (C,), P[p + "ln_2.weight"], get(p + "ln_2.bias"), eps=1e-5)
        h = h @ P[p + "mlp.c_fc.weight"]
        if bias:
            h = h + P[p + "mlp.c_fc.bias"]
        h = F.gelu(h, approximate="tanh") @ P[p + "mlp.c_proj.weight"]
        if bias:
            h = h + P[p + "mlp.c_proj.bias"]
        x = x + h
    x = F.layer_norm(x, (C,), P["ln_f.weight"], get("ln_f.bias"), eps=1e-5)
    logits = x @ P["wte"].T
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-1)
    return logits, loss


def run(P32, idx, tgt, L, NH, bias, dtype):
    P = {k: v.to(dtype).clone().requires_grad_(True) for k, v in P32.items()}
    logits, loss = forward(P, idx, tgt, L, NH, bias)
    loss.backward()
    grads = {k: v.grad.detach().clone() for k, v in P.items()}
    decay = [v for k, v in P.items() if len(v.shape) >= 2]
    nodecay = [v for k, v in P.items() if len(v.shape) < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": ADAMW["weight_decay"]},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])
    opt.step()
    after = {k: v.detach().clone() for k, v in P.items()}
    return logits.detach(), loss.detach(), grads, after


def hf_check(P, idx, V, Tmax, L, NH, C, logits):
    """Cross-check the hand-written model against transformers' GPT2LMHeadModel (float64)."""
    try:
        from transformers import GPT2Config, GPT2LMHeadModel
    except Exception as e:  # transformers is optional for regenerating vectors
        print(f"  transformers unavailable ({e}); skipping the HF cross-check")
        return
    cfg = GPT2Config(vocab_size=V, n_positions=Tmax, n_embd=C, n_layer=L, n_head=NH,
                     resid_pdrop=0, embd_pdrop=0, attn_pdrop=0, layer_norm_epsilon=1e-5,
                     activation_function="gelu_new", bos_token_id=0, eos_token_id=0)
    m = GPT2LMHeadModel(cfg).double().eval()
    sd = {"transformer." + k + ("" if k.endswith((".weight", ".bias")) else ".weight"): v.double()
          for k, v in P.items()}
    sd["lm_head.weight"] = P["wte"].double()
    missing, unexpected = m.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith(("attn.bias", "attn.masked_bias"))]
    assert not missing and not unexpected, (missing, unexpected)
    with torch.no_grad():
        hl = m(idx).logits
    print(f"  transformers GPT2LMHeadModel vs this model: max |logits diff| = {(hl - logits).abs().max().item():.3g}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "lmlib", "gpt", "testdata"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    for i, (name, V, Tmax, L, NH, C, bias, B, T, ignore) in enumerate(CASES):
        gen = torch.Generator().manual_seed(1234 + i)
        P32 = init_params(specs(V, Tmax, L, C, bias), gen)
        idx = torch.randint(0, V, (B, T), generator=gen)
        tgt = torch.randint(0, V, (B, T), generator=gen)
        if ignore:
            tgt[0, :3] = -1
            tgt[1, -1] = -1
        logits, loss, grads, after = run(P32, idx, tgt, L, NH, bias, torch.float64)
        # How far PyTorch's own float32 run is from the float64 reference, for comparison.
        l32, _, g32, a32 = run(P32, idx, tgt, L, NH, bias, torch.float32)
        rel = lambda a, b: ((a.double() - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()
        worst = max([rel(l32, logits)] + [rel(g32[k], grads[k]) for k in grads] + [rel(a32[k], after[k]) for k in after])
        print(f"case {name}: loss {loss.item():.6f}; torch float32 vs float64 worst relative error {worst:.3g}")
        if bias:
            hf_check(P32, idx, V, Tmax, L, NH, C, logits)
        tensors = {"tokens": idx.to(torch.int32).contiguous(), "targets": tgt.to(torch.int32).contiguous(),
                   "logits": logits.float().contiguous(), "loss": loss.float().reshape(1)}
        for k in P32:
            tensors["param/" + k] = P32[k].contiguous()
            tensors["grad/" + k] = grads[k].float().contiguous()
            tensors["after/" + k] = after[k].float().contiguous()
        meta = {"config": json.dumps(dict(VocabSize=V, ContextLen=Tmax, Layers=L, Heads=NH, Width=C, Bias=bias)),
                "batch": json.dumps(dict(B=B, T=T)),
                "adamw": json.dumps(dict(lr=ADAMW["lr"], beta1=ADAMW["betas"][0], beta2=ADAMW["betas"][1],
                                         eps=ADAMW["eps"], weight_decay=ADAMW["weight_decay"], step=1)),
                "generator": f"tools/torchref/gpt_ref.py, torch {torch.__version__}, float64"}
        data = gzip.compress(save(tensors, metadata=meta), compresslevel=9, mtime=0)
        path = os.path.join(args.out, f"parity_{name}.safetensors.gz")
        fd, tmp = tempfile.mkstemp(dir=args.out)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        print(f"  wrote {path} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
