# security: the adversarial suite (docs/functions.md "Threat model", docs/kernel.md):
# attacks on the function host's sandbox, keys and limits, and on the kernel. Each test
# is named TestAttack* (Go) or tests/test_attack_*.py (real Jupyter clients). They also
# run within `make test`; .ci/run runs this target on its own so a failure names it.
.PHONY: test-security
test-security: deps venv build
	$(GO) test -count=1 -timeout 10m -run '^TestAttack' ./...
	@if ls tests/test_attack_*.py >/dev/null 2>&1; then GOLEM_BIN=$(CURDIR)/$(BIN) $(PY) -m pytest -q tests/test_attack_*.py; fi
