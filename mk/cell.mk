# cell: the Go dialect of notebook cells and deployed functions (package cell) and
# cell/symbols, the yaegi tables of golem's packages a cell can import; cell/stdlib, the
# standard library of the installed Go; cell/gomod, third-party modules (%get).
.PHONY: symbols bench-session lint-prelude
LINT_DEPS += lint-prelude

# The prelude (cell/prelude) is Go the interpreter compiles, kept out of builds by a
# build tag: vet it with the tag (gofmt sees it with every other file).
lint-prelude:
	$(GO) vet -tags golemprelude ./cell/prelude/...

# Regenerate the yaegi export tables of golem's packages (cell/symbols/symbols.go lists them).
symbols:
	cd cell/symbols && $(GO) generate .

# Trivial cells ("1+1") executed in-process, 1000 in one session: golem's cell.Session.Execute
# against IPython's InteractiveShell.run_cell (the same layer, no wire protocol).
bench: bench-session
bench-session: venv
	@flock /tmp/golem-bench.lock sh -c '\
	  g=$$($(GO) test -run "^$$" -bench "BenchmarkTrivialCell$$" -benchtime=1000x ./cell/ | awk "/^BenchmarkTrivialCell/ {print 1e9/\$$3}"); \
	  p=$$($(PY) cell/bench/ipython_cells.py 1000); \
	  echo "bench: session-trivial-cell golem=$$g cells/s ipython=$$p cells/s ratio=$$(awk "BEGIN {printf \"%.2f\", $$g/$$p}")"'
FUZZ_TARGETS += ./cell:FuzzCellTools

# Byte-for-byte check of the symbol tables against a fresh `yaegi extract` (slow).
.PHONY: symbols-check
symbols-check:
	GOLEM_SYMBOLS_FULL=1 $(GO) test -run TestSymbolsRegenerated -timeout 20m ./cell/symbols/

# Regenerate cell/stdlib: the standard library names of the installed Go that yaegi
# v0.16.1's Go 1.22 tables lack (run after a Go upgrade; TestStdlibReachable says when).
.PHONY: stdlib
stdlib:
	cd cell/stdlib && $(GO) generate .

# %get (cell/gomod): the third-party packages in a real kernel, and the example notebook.
.PHONY: test-third-party
test-third-party: build venv
	GOLEM_BIN=$(CURDIR)/$(BIN) $(PY) -m pytest -q tests/test_third_party.py
	GOLEM_BIN=$(CURDIR)/$(BIN) $(PY) -m pytest -q tests/test_notebooks.py -k third_party

# %get of gonum/mat in a fresh notebook directory, then a 200×200 product compiled (gonum) and
# interpreted (a cell's loop). Uses the Go module and build caches as they are.
.PHONY: bench-get
bench-get: build venv
	GOLEM_BIN=$(CURDIR)/$(BIN) $(PY) cell/bench/get_gonum.py
