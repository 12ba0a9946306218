# lmlib/data: readers, writers, pipeline (area "data").
FUZZ_TARGETS += ./lmlib/data:FuzzWARCReader ./lmlib/data:FuzzJSONLReader ./lmlib/data:FuzzJSONObject

# Reading JSONL.zst and WARC.gz (one stream) and a step-less Pipeline over 4 JSONL.zst
# shards, golem vs datatrove 0.10.1, on the same generated ~200 MB corpora
# (kept in build/bench-data between runs), both sides back to back, best of 3 rounds,
# under the bench lock (lmlib/data/bench/bench.py says what is measured).
BENCH_DATA_DIR ?= $(CURDIR)/build/bench-data
.PHONY: bench-data data-vectors
bench: bench-data
bench-data: venv assets peers
	@mkdir -p $(BENCH_DATA_DIR)
	$(GO) test -c -o $(BENCH_DATA_DIR)/data.test ./lmlib/data
	flock /tmp/golem-bench.lock $(PY) lmlib/data/bench/bench.py $(BENCH_DATA_DIR) $(BENCH_DATA_DIR)/data.test 3 2>/dev/null

# Regenerate lmlib/data/testdata (samples, then datatrove's and pyarrow's view of them).
data-vectors: venv assets peers
	$(GO) test -run TestDatatroveAgreement -update ./lmlib/data || true
	$(PY) lmlib/data/testdata/datatrove_vectors.py
	$(GO) test -run 'TestDatatroveAgreement|TestParquetFromPyarrow' ./lmlib/data
