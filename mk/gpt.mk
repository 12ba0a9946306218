# lmlib/gpt: the GPT engine. `make bench-train` times a training step of golem against
# PyTorch eager and torch.compile on the same 2 cores, GPT-2 and the modern recipe (needs
# `make peers` for torch). `make bench-recipe` trains GPT-2 + AdamW and the modern recipe +
# Muon on the shipped books for the same tokens and the same wall-clock time (no peers needed).
.PHONY: bench-train bench-gpt gpt-torchref bench-recipe

bin/benchtrain: $(wildcard lmlib/gpt/*.go lmlib/gpt/*.h) tools/benchtrain/main.go tools/benchtrain/ops.go
	$(GO) build -o $@ ./tools/benchtrain

bin/benchrecipe: $(wildcard lmlib/gpt/*.go lmlib/gpt/*.h lmlib/train/*.go) tools/benchrecipe/main.go
	$(GO) build -o $@ ./tools/benchrecipe

# 1M tokens each (the quick-start's budget: 1000 steps of 8×128), then 180 s side by side.
RECIPE_TOKENS  ?= 1000000
RECIPE_SECONDS ?= 180
bench-recipe: bin/benchrecipe assets
	mkdir -p build
	flock /tmp/golem-bench.lock bin/benchrecipe -tokens $(RECIPE_TOKENS) -seconds $(RECIPE_SECONDS) -out build/bench-recipe.json

bench-train: bin/benchtrain
	@test -x $(PY) && $(PY) -c 'import torch' 2>/dev/null || { echo "bench-train needs PyTorch: run make peers"; exit 1; }
	flock /tmp/golem-bench.lock $(PY) tools/torchref/bench_train.py --golem bin/benchtrain

bench-gpt: bench-train
bench: bench-train bench-recipe

# Regenerate lmlib/gpt/testdata (PyTorch parity vectors: GPT-2, and the modern recipe with Muon).
gpt-torchref:
	$(PY) tools/torchref/gpt_ref.py
	$(PY) tools/torchref/recipe_ref.py

FUZZ_TARGETS += ./lmlib/gpt:FuzzForward
