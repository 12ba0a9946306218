# session: the kernel's cell interpreter (kernel/session) and lmlib's yaegi symbol tables.
.PHONY: symbols bench-session

# Regenerate the yaegi export tables of golem's packages (lmlib/symbols/symbols.go lists them).
symbols:
	cd lmlib/symbols && $(GO) generate .

bench: bench-session
bench-session:
	flock /tmp/golem-bench.lock $(GO) test -run '^$$' -bench 'BenchmarkTrivialCell' -benchmem -benchtime=1000x ./kernel/session/
