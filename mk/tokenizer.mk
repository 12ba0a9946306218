# lmlib/tokenizer: fuzz targets and the side-by-side benchmark against tiktoken and HF tokenizers.
FUZZ_TARGETS += ./lmlib/tokenizer:FuzzRoundTrip ./lmlib/tokenizer:FuzzParseTiktoken ./lmlib/tokenizer:FuzzLoadHF

.PHONY: bench-tokenizer
bench: bench-tokenizer
bench-tokenizer: venv assets peers
	$(GO) build -o bin/tokenizer-bench ./lmlib/tokenizer/bench
	flock /tmp/golem-bench.lock $(PY) lmlib/tokenizer/bench/bench.py --golem bin/tokenizer-bench

# Live differential check against tiktoken (in the base venv): 40,000 adversarial short strings
# per vocabulary must encode to tiktoken's ids. Part of `make test`.
.PHONY: tokenizer-diff
TEST_DEPS += tokenizer-diff
tokenizer-diff: venv assets
	$(GO) build -o bin/tokenizer-bench ./lmlib/tokenizer/bench
	$(PY) lmlib/tokenizer/testdata/diff_tiktoken.py bin/tokenizer-bench
