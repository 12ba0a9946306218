# Evaluation, generation, fine-tuning, HF export (lmlib/eval, lmlib/finetune, lmlib/hf).

.PHONY: bench-generate hf-ref
bench: bench-generate

# Greedy generation tokens/s: golem's KV cache vs HF transformers (use_cache=True), same weights.
bench-generate: peers
	flock /tmp/golem-bench.lock $(PY) tools/benchgen/bench_generate.py

# Regenerate lmlib/hf/testdata (golem export) and the transformers reference logits.
hf-ref: peers
	rm -rf lmlib/hf/testdata/tiny
	GOLEM_WRITE_HF_TESTDATA=1 $(GO) test ./lmlib/hf -run TestWriteTestdata
	$(PY) tools/hfref/gen_hf_ref.py

# The OpenAI-compatible API of golem serve with the real clients: the openai Python
# client (streaming) and lm-evaluation-harness's local-completions model, whose numbers
# must equal golem eval's (tests/clients). They live in a venv of their own (.venv-eval:
# lm-eval's datasets, pyarrow, pandas, scikit-learn); .ci/run calls this target.
VENV_EVAL := .venv-eval
.PHONY: venv-eval test-eval-clients
venv-eval: $(VENV_EVAL)/.stamp
$(VENV_EVAL)/.stamp: requirements-eval.txt
	test -x $(VENV_EVAL)/bin/python || $(PYTHON) -m venv $(VENV_EVAL)
	$(VENV_EVAL)/bin/python -m pip install -q --disable-pip-version-check -r requirements-eval.txt
	touch $@

test-eval-clients: deps build venv-eval
	cd tests/clients && GOLEM_BIN=$(CURDIR)/$(BIN) $(CURDIR)/$(VENV_EVAL)/bin/python -m pytest -q .
