# lmlib/tokenizer: fuzz targets and the side-by-side benchmark against tiktoken and HF tokenizers.
FUZZ_TARGETS += ./lmlib/tokenizer:FuzzRoundTrip ./lmlib/tokenizer:FuzzParseTiktoken ./lmlib/tokenizer:FuzzLoadHF

.PHONY: bench-tokenizer
bench: bench-tokenizer
bench-tokenizer: venv assets peers
	$(GO) build -o bin/tokenizer-bench ./lmlib/tokenizer/bench
	flock /tmp/golem-bench.lock $(PY) lmlib/tokenizer/bench/bench.py --golem bin/tokenizer-bench
