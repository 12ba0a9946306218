#!/usr/bin/env bash
# golem's GPU check (make gpu-check), run on the GPU machine from the repository root.
# The binary is built on the CPU machine (make cuda-build → bin/golem-gpucheck) and
# carried; this machine needs the NVIDIA driver, a cuBLAS (CUDA 13 or 12 toolkit, or
# PyTorch's wheels) and, for the benchmark, PyTorch.
#   1. parity with the CPU engine (fp32, ≤ 1e-3 relative), 2. a short training run whose
#   loss falls, 3. bench: train-gpu-gpt2 golem=… pytorch=… ratio=… mfu=… (GPT-2 124M, T=1024).
# Budget: about 5 minutes when all goes well; every part has a timeout (worst case ~10 min). Environment: GOLEM_GPUCHECK_BIN, PYTHON, BENCH_B (default 8).
set -uo pipefail
BIN=${GOLEM_GPUCHECK_BIN:-bin/golem-gpucheck}
PY=${PYTHON:-python3}
B=${BENCH_B:-8}
OUT=${OUT:-/tmp/gpucheck}
mkdir -p "$OUT"
fail=0
say() { echo "== gpucheck: $*"; }

[ -x "$BIN" ] || { echo "gpucheck: $BIN is missing: build it on the CPU machine with make cuda-build and carry it"; exit 2; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || say "nvidia-smi failed"

# cuBLAS: the binary dlopens libcublas.so.13 (then .12); add the usual places to the path.
dirs=()
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/lib64 /usr/local/cuda-12*/lib64; do
  [ -d "$d" ] && dirs+=("$d")
done
while IFS= read -r d; do [ -n "$d" ] && dirs+=("$d"); done < <("$PY" - <<'PYEOF' 2>/dev/null
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
for r in roots:
    for pat in ("nvidia/cublas/lib", "nvidia/cu13/lib", "nvidia/*/lib", "torch/lib"):
        for d in glob.glob(os.path.join(r, pat)):
            if glob.glob(os.path.join(d, "libcublas.so*")):
                print(d)
PYEOF
)
export LD_LIBRARY_PATH="$(IFS=:; echo "${dirs[*]:-}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
say "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
if ldd "$BIN" | grep -q "not found"; then
  ldd "$BIN"; echo "gpucheck: a shared library of $BIN is missing (libcuda.so.1 comes with the NVIDIA driver)"; exit 2
fi

if [ -x bin/cuda.test ]; then
  say "0/3 lmlib/gpt/cuda unit tests (bin/cuda.test, if carried)"
  timeout 60 bin/cuda.test -test.v 2>&1 | tail -20 | tee "$OUT/unit.txt"; [ "${PIPESTATUS[0]}" = 0 ] || { fail=1; say "unit tests FAILED"; }
fi

say "1/3 parity with the CPU engine (fp32)"
timeout 120 "$BIN" parity 2>&1 | tee "$OUT/parity.txt"; [ "${PIPESTATUS[0]}" = 0 ] || { fail=1; say "parity FAILED"; }

say "1/3 parity with bf16 matrix products (sanity, 5e-2)"
timeout 60 "$BIN" parity -bf16 -tol 5e-2 2>&1 | tee "$OUT/parity-bf16.txt"; [ "${PIPESTATUS[0]}" = 0 ] || { fail=1; say "bf16 parity FAILED"; }

say "2/3 short training run (bf16 matrix products)"
timeout 90 "$BIN" train -bf16 2>&1 | tee "$OUT/train.txt"; [ "${PIPESTATUS[0]}" = 0 ] || { fail=1; say "train FAILED"; }

say "3/3 GPT-2 124M training step, T=1024, B=$B: golem, fp32 storage, TF32 matmuls"
timeout 120 "$BIN" bench -B "$B" > "$OUT/golem-tf32.json" 2> "$OUT/golem-tf32.err"; grc32=$?
cat "$OUT/golem-tf32.err" "$OUT/golem-tf32.json"; [ $grc32 = 0 ] || { fail=1; say "golem TF32 bench FAILED"; }
say "3/3 the same with bf16 matmul operands (fp32 master weights)"
timeout 120 "$BIN" bench -B "$B" -bf16 > "$OUT/golem.json" 2> "$OUT/golem.err"; grc=$?
cat "$OUT/golem.err" "$OUT/golem.json"
say "3/3 the same on PyTorch (nanoGPT-style, bf16 autocast, torch.compile)"
timeout 200 "$PY" tools/gpucheck/torch_gpt2_bench.py --B "$B" > "$OUT/torch.json" 2> "$OUT/torch.err"; trc=$?
if [ $trc != 0 ]; then
  tail -5 "$OUT/torch.err"; say "PyTorch with torch.compile failed or timed out (rc=$trc): eager instead"
  timeout 90 "$PY" tools/gpucheck/torch_gpt2_bench.py --B "$B" --no-compile > "$OUT/torch.json" 2> "$OUT/torch.err"; trc=$?
fi
tail -5 "$OUT/torch.err"; cat "$OUT/torch.json"
if [ $grc = 0 ] && [ $trc = 0 ]; then
  "$PY" - "$OUT/golem.json" "$OUT/torch.json" "$OUT/golem-tf32.json" <<'PYEOF'
import json, os, sys
def last(p):
    return json.loads(open(p).read().strip().splitlines()[-1]) if os.path.getsize(p) else None
g, t, g32 = last(sys.argv[1]), last(sys.argv[2]), last(sys.argv[3])
for name, x in (("train-gpu-gpt2", g), ("train-gpu-gpt2-tf32", g32)):
    if x:
        print(f"bench: {name} golem={x['tokens_per_s']:.0f}tok/s pytorch={t['tokens_per_s']:.0f}tok/s "
              f"ratio={x['tokens_per_s']/t['tokens_per_s']:.3f} mfu={x['mfu']*100:.1f}% pytorch_mfu={t['mfu']*100:.1f}% "
              f"device=\"{x['device']}\" B={x['B']} T={x['T']} torch_compiled={t['compiled']}")
PYEOF
else
  say "bench incomplete (golem rc=$grc, pytorch rc=$trc)"; fail=1
fi
[ $fail = 0 ] && say "PASS" || say "FAILED"
exit $fail
