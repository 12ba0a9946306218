"""Shared pytest setup: a private Jupyter environment with the golem kernelspec.

Every test run gets its own JUPYTER_PATH / JUPYTER_DATA_DIR / JUPYTER_RUNTIME_DIR
(so history and connection files never touch the user's), with the kernelspec
installed by `$GOLEM_BIN install --prefix`, pointing at the binary under test.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLEM_BIN = os.environ.get("GOLEM_BIN") or str(ROOT / "bin" / "golem")
_JUPYTER_TMP = tempfile.mkdtemp(prefix="golem-jupyter-")


KERNEL_TEST_FILES = {"test_kernel.py", "test_papermill.py", "test_quickstart.py", "test_deploy_magic.py", "test_lab.py", "test_notebooks.py", "test_docs.py", "test_image_install.py", "test_third_party.py", "test_widgets.py", "test_lab_widgets.py", "test_subshells.py", "test_debugger.py", "test_lab_control.py"}

# tests/clients runs in a venv of its own (make test-eval-clients).
collect_ignore = ["clients"]


def _needs_kernel(name):
    return name in KERNEL_TEST_FILES or name.startswith("test_attack_kernel")


def pytest_collection_modifyitems(session, config, items):
    """Set up the private Jupyter environment when kernel tests are selected
    (other areas' tests do not need the golem binary)."""
    if not any(_needs_kernel(pathlib.Path(str(item.fspath)).name) for item in items):
        return
    if not os.access(GOLEM_BIN, os.X_OK):
        raise pytest.UsageError(f"golem binary {GOLEM_BIN} not found: run `make build` or set GOLEM_BIN")
    prefix = pathlib.Path(_JUPYTER_TMP) / "prefix"
    subprocess.run([GOLEM_BIN, "install", "--prefix", str(prefix)], check=True, capture_output=True)
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    os.environ["JUPYTER_DATA_DIR"] = str(pathlib.Path(_JUPYTER_TMP) / "data")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(pathlib.Path(_JUPYTER_TMP) / "runtime")
    os.environ["GOLEM_BIN"] = GOLEM_BIN
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def pytest_unconfigure(config):
    shutil.rmtree(_JUPYTER_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def golem_bin():
    return GOLEM_BIN


@pytest.fixture(scope="session")
def jupyter_tmp():
    return pathlib.Path(_JUPYTER_TMP)


@pytest.fixture(scope="session")
def python():
    return sys.executable
