# lmlib/gpt: the GPT engine. `make bench-train` times a training step of golem against
# PyTorch eager on the same 2 cores (needs `make peers` for torch).
.PHONY: bench-train bench-gpt gpt-torchref

bin/benchtrain: $(wildcard lmlib/gpt/*.go lmlib/gpt/*.h) tools/benchtrain/main.go
	$(GO) build -o $@ ./tools/benchtrain

bench-train: bin/benchtrain
	@test -x $(PY) && $(PY) -c 'import torch' 2>/dev/null || { echo "bench-train needs PyTorch: run make peers"; exit 1; }
	flock /tmp/golem-bench.lock $(PY) tools/torchref/bench_train.py --golem bin/benchtrain

bench-gpt: bench-train
bench: bench-train

# Regenerate lmlib/gpt/testdata (PyTorch parity vectors: GPT-2, and the modern recipe with Muon).
gpt-torchref:
	$(PY) tools/torchref/gpt_ref.py
	$(PY) tools/torchref/recipe_ref.py

FUZZ_TARGETS += ./lmlib/gpt:FuzzForward
