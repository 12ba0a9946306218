"""Shared pytest setup: a private Jupyter environment with the golem kernelspec.

Every test run gets its own JUPYTER_PATH / JUPYTER_DATA_DIR / JUPYTER_RUNTIME_DIR
(so history and connection files never touch the user's), with the kernelspec
installed by `$GOLEM_BIN install --prefix`, pointing at the binary under test.
"""

import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLEM_BIN = os.environ.get("GOLEM_BIN") or str(ROOT / "bin" / "golem")
_JUPYTER_TMP = tempfile.mkdtemp(prefix="golem-jupyter-")


def pytest_configure(config):
    if not os.access(GOLEM_BIN, os.X_OK):
        raise pytest.UsageError(f"golem binary {GOLEM_BIN} not found: run `make build` or set GOLEM_BIN")
    prefix = pathlib.Path(_JUPYTER_TMP) / "prefix"
    subprocess.run([GOLEM_BIN, "install", "--prefix", str(prefix)], check=True, capture_output=True)
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    os.environ["JUPYTER_DATA_DIR"] = str(pathlib.Path(_JUPYTER_TMP) / "data")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(pathlib.Path(_JUPYTER_TMP) / "runtime")
    os.environ["GOLEM_BIN"] = GOLEM_BIN
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


@pytest.fixture(scope="session")
def golem_bin():
    return GOLEM_BIN


@pytest.fixture(scope="session")
def jupyter_tmp():
    return pathlib.Path(_JUPYTER_TMP)


@pytest.fixture(scope="session")
def python():
    return sys.executable
