# Evaluation, generation, fine-tuning, HF export (lmlib/eval, lmlib/finetune, lmlib/hf).

.PHONY: bench-generate hf-ref
bench: bench-generate

# Greedy generation tokens/s: golem's KV cache vs HF transformers (use_cache=True), same weights.
bench-generate: peers
	flock /tmp/golem-bench.lock $(PY) tools/benchgen/bench_generate.py

# Regenerate lmlib/hf/testdata (golem export) and the transformers reference logits.
hf-ref: peers
	rm -rf lmlib/hf/testdata/tiny
	GOLEM_WRITE_HF_TESTDATA=1 $(GO) test ./lmlib/hf -run TestWriteTestdata
	$(PY) tools/hfref/gen_hf_ref.py
