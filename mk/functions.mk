# functions: the golem function host (golem serve), see docs/functions.md.

FUZZ_TARGETS += ./functions/worker:FuzzDecodeInput

.PHONY: bench-functions
bench: bench-functions

# Bounded loopback load (8 clients, 5 s per side) on the built-in tokenize endpoint and a
# deployed user function, each against a bare net/http handler running the same code
# in-process. Prints `bench:` lines; ratio = golem ÷ bare (above 1: golem better).
BENCH_FUNCTIONS_FLAGS ?= -duration 5s -concurrency 8 -workers 2
bench-functions: assets peers
	flock /tmp/golem-bench.lock $(GO) run ./functions/benchload $(BENCH_FUNCTIONS_FLAGS)
