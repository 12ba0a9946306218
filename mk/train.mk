# area "train": token shards (lmlib/shard) and the training loop (lmlib/train).
FUZZ_TARGETS += ./lmlib/shard:FuzzHeader
FUZZ_TARGETS += ./lmlib/train:FuzzReadSafetensors

# Shard writing (GPT-2 tokenize + write llm.c shards), golem vs llm.c's fineweb.py recipe
# (tiktoken + multiprocessing + numpy), on Newton's Opticks and the first 250,000 lines of the Go sources under
# $GOROOT/src/go and src/net (distinct text, split into documents at blank lines).
.PHONY: bench-shard
bench: bench-shard
bench-shard: venv assets
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	op=$$($(GO) env GOROOT)/src/testdata/Isaac.Newton-Opticks.txt; \
	cat $$op > $$tmp/corpus.txt; printf '\n\n' >> $$tmp/corpus.txt; \
	find $$($(GO) env GOROOT)/src/go $$($(GO) env GOROOT)/src/net -type f -name '*.go' | LC_ALL=C sort | xargs cat | head -n 250000 >> $$tmp/corpus.txt; \
	g=$$(GOLEM_BENCH_SHARD=$$tmp/corpus.txt $(GO) test -count=1 -run '^TestBenchShardWrite$$' -v ./lmlib/shard | sed -n 's/^golem-shard //p'); \
	p=$$($(PY) tools/shardbench/llmc_shard.py $$tmp $$tmp/corpus.txt); \
	echo "$$g $$p" | awk '{ g=$$1/$$2; p=$$3/$$4; printf "bench: shard-write-gpt2 golem=%.0f llmc-py=%.0f ratio=%.2f (tokens/s; %d and %d tokens)\n", g, p, g/p, $$1, $$3 }'
