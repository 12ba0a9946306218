# kernel: the Jupyter kernel (golem kernel / golem install), the papermill translator
# package (kernel/papermill), the quick-start notebook and the kernel benchmark.

GOLEM_PAPERMILL_STAMP := $(VENV)/.golem-papermill-stamp

TEST_DEPS += golem-papermill
FUZZ_TARGETS += ./kernel:FuzzDecode ./kernel:FuzzGlob
DEMO_DEPS += kernelspec-venv demo-notebook

.PHONY: golem-papermill kernelspec-venv demo-notebook bench-kernel bench-widgets

# The papermill translator for Go, installed into the project venv.
golem-papermill: $(GOLEM_PAPERMILL_STAMP)
$(GOLEM_PAPERMILL_STAMP): $(VENV)/.stamp kernel/papermill/pyproject.toml kernel/papermill/golem_papermill/*.py
	$(PY) -m pip install -q --disable-pip-version-check ./kernel/papermill
	touch $@

# The kernelspec "golem" inside the venv, pointing at bin/golem.
kernelspec-venv: build
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN) install --sys-prefix

# Run the quick-start notebook with papermill and print its outputs.
demo-notebook: kernelspec-venv golem-papermill
	@mkdir -p out
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) -m papermill notebooks/quickstart.ipynb out/quickstart.ipynb -k golem --cwd notebooks
	$(PY) kernel/scripts/show_notebook.py out/quickstart.ipynb

bench: bench-kernel
bench-kernel: build venv golem-papermill
	flock /tmp/golem-bench.lock $(PY) kernel/bench/bench_kernel.py --golem $(CURDIR)/$(BIN)
# widget callbacks: golem's display/widgets against ipykernel with ipywidgets (BENCHMARKS.md, kernel)
bench-widgets: build venv
	cd kernel/bench && flock /tmp/golem-bench.lock $(CURDIR)/$(PY) bench_widgets.py --golem $(CURDIR)/$(BIN)
