# lmlib/data: readers, writers, pipeline (area "data").
FUZZ_TARGETS += ./lmlib/data:FuzzWARCReader ./lmlib/data:FuzzJSONLReader ./lmlib/data:FuzzJSONObject

# Reading JSONL.zst and WARC.gz (one stream) and a step-less Pipeline over 4 JSONL.zst
# shards, golem vs datatrove 0.10.1, on the same generated ~200 MB corpora
# (kept in build/bench-data between runs), both sides in one run under the bench lock.
BENCH_DATA_DIR ?= $(CURDIR)/build/bench-data
.PHONY: bench-data data-vectors
bench: bench-data
bench-data: venv assets peers
	@mkdir -p $(BENCH_DATA_DIR)
	flock /tmp/golem-bench.lock sh -c 'GOLEM_BENCH_DIR=$(BENCH_DATA_DIR) $(GO) test -run "^$$" \
	  -bench "^Benchmark(ReadJSONLZstd|ReadWARCGzip|PipelineJSONLZstd)$$" -benchtime 3x ./lmlib/data \
	  | tee $(BENCH_DATA_DIR)/golem.txt && \
	  $(PY) lmlib/data/bench/datatrove_read.py $(BENCH_DATA_DIR) $(BENCH_DATA_DIR)/golem.txt 2>/dev/null'

# Regenerate lmlib/data/testdata (samples, then datatrove's and pyarrow's view of them).
data-vectors: venv assets peers
	$(GO) test -run TestDatatroveAgreement -update ./lmlib/data || true
	$(PY) lmlib/data/testdata/datatrove_vectors.py
	$(GO) test -run 'TestDatatroveAgreement|TestParquetFromPyarrow' ./lmlib/data
