"""bench: generate — greedy generation tokens/s, golem (KV cache) vs HF transformers
(PyTorch eager, use_cache=True) on the same weights, same prompt, same CPU threads.

    .venv/bin/python tools/benchgen/bench_generate.py [--layers 6 --heads 6 --width 384 ...]

Both time prompt processing plus generation of --tokens new tokens (the best of
--reps runs after a warm-up) and must produce the same token ids.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch
from transformers import GPT2LMHeadModel

ap = argparse.ArgumentParser()
for k, v in dict(layers=6, heads=6, width=384, vocab=50257, ctx=256, prompt=64, tokens=128, reps=3).items():
    ap.add_argument("--" + k, type=int, default=v)
ap.add_argument("--threads", type=int, default=os.cpu_count())
a = ap.parse_args()

root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "hf")
    binp = os.path.join(tmp, "benchgen")
    subprocess.run(["go", "build", "-o", binp, "./tools/benchgen"], cwd=root, check=True)
    env = dict(os.environ, GOMAXPROCS=str(a.threads))
    res = subprocess.run([binp, "-out", out] + [f"-{k}={getattr(a, k)}" for k in
                         ("layers", "heads", "width", "vocab", "ctx", "prompt", "tokens", "reps")],
                         cwd=root, check=True, capture_output=True, text=True, env=env)
    golem = json.loads(res.stdout)

    torch.set_num_threads(a.threads)
    model = GPT2LMHeadModel.from_pretrained(out)
    model.eval()
    ids = torch.tensor([golem["prompt"]])
    best = None
    gen = None
    with torch.no_grad():
        for r in range(a.reps + 1):
            t0 = time.perf_counter()
            o = model.generate(ids, max_new_tokens=a.tokens, min_new_tokens=a.tokens, do_sample=False,
                               use_cache=True, eos_token_id=None, pad_token_id=0)
            el = time.perf_counter() - t0
            if r > 0 and (best is None or el < best):
                best = el
            gen = o[0, ids.shape[1]:].tolist()

same = sum(1 for x, y in zip(gen, golem["generated"]) if x == y)
pt = a.tokens / best
g = golem["tokens_per_s"]
cfg = f"{a.layers}/{a.heads}/{a.width} vocab {a.vocab} prompt {a.prompt} new {a.tokens} threads {a.threads}"
print(f"bench: generate golem={g:.1f} tok/s pytorch={pt:.1f} tok/s ratio={g / pt:.2f} ({cfg}; "
      f"{golem['params']/1e6:.1f}M params; identical greedy tokens {same}/{a.tokens})")
if same != a.tokens:
    first = next(i for i, (x, y) in enumerate(zip(gen, golem["generated"])) if x != y)
    print(f"note: greedy tokens diverge at position {first} (float rounding between engines)", file=sys.stderr)
