# area "clean": lmlib/clean (extraction, normalisation, filters, dedup, PII, language ID).
FUZZ_TARGETS += ./lmlib/clean:FuzzExtract ./lmlib/clean:FuzzWords

# The FineWeb chain, golem vs datatrove 0.10.1 (LocalPipelineExecutor), same input, 2 workers each.
.PHONY: bench-clean clean-vectors
bench: bench-clean
bench-clean: venv assets peers
	$(GO) build -o bin/golem ./cmd/golem
	flock /tmp/golem-bench.lock $(PY) lmlib/clean/bench/bench.py --golem bin/golem

# Regenerate lmlib/clean/testdata (datatrove, spaCy, numpy outputs) after a peer upgrade.
clean-vectors: venv assets peers
	$(PY) lmlib/clean/testdata/gen_datatrove.py
