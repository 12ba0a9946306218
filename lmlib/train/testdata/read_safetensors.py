"""Load a safetensors file with the safetensors package and print, per tensor in
name order, "name shape sum first" (used by the Go test to check golem's writer)."""
import sys

from safetensors.numpy import load_file

for name, t in sorted(load_file(sys.argv[1]).items()):
    flat = t.reshape(-1)
    first = repr(float(flat[0])) if flat.size else "-"
    print(name, list(t.shape), repr(float(t.astype("float64").sum())), first)
