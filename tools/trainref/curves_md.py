"""Print the validation (and smoothed training) curves of golem and PyTorch from a
reference JSON written by train_ref.py as a Markdown table, for docs/train.md.
usage: python curves_md.py CURVE.json [EVERY]   (rows: the first evaluation, every EVERY steps, the last)"""
import json
import sys

r = json.load(open(sys.argv[1]))
every = int(sys.argv[2]) if len(sys.argv) > 2 else 1
g = r["golem"]
tv, gv = dict(map(tuple, r["evals"])), dict(map(tuple, g["evals"]))
tt, gt = dict(map(tuple, r["train"])), dict(map(tuple, g["train"]))


def avg(d, step, w=50):
    xs = [d[s] for s in range(max(1, step - w + 1), step + 1) if s in d]
    return sum(xs) / len(xs)


print("| step | tokens | val loss golem | val loss PyTorch | diff | train loss golem (mean of last 50) | train loss PyTorch |")
print("|---:|---:|---:|---:|---:|---:|---:|")
steps = sorted(tv)
for i, s in enumerate(steps):
    if i > 0 and s % every and s != steps[-1]:
        continue
    s = int(s)
    tokens = s * r["b"] * r["t"] * r["options"]["grad_accum"]
    print(f"| {s} | {tokens:,} | {gv[s]:.4f} | {tv[s]:.4f} | {gv[s] - tv[s]:+.4f} | {avg(gt, s):.4f} | {avg(tt, s):.4f} |")
worst = max(abs(gv[s] - tv[s]) for s in steps)
print(f"\nlargest |golem − PyTorch| validation gap: {worst:.2g} over {len(steps)} evaluations ({r['torch']})")
