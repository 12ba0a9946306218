"""What the notebook generators (notebooks/make_*.py) share: golem's kernelspec, cell
constructors and one writer, so every generated notebook has the same metadata and
stable cell ids (cell-0, cell-1, …) and a rerun of a generator changes nothing.

A generator runs as a script from anywhere (`python notebooks/make_x.py`); Python puts
the script's folder first on sys.path, so `import nbgen` finds this file.
"""
import os
import pathlib

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = pathlib.Path(__file__).resolve().parent
ROOT = NOTEBOOKS.parent
META = {
    "kernelspec": {"name": "golem", "display_name": "Go (golem)", "language": "go"},
    "language_info": {"name": "go", "file_extension": ".go", "mimetype": "text/x-go"},
}


def md(src):
    """A markdown cell."""
    return new_markdown_cell(src)


def code(src, tags=None, metadata=None):
    """A Go code cell; leading and trailing newlines of src are dropped."""
    c = new_code_cell(src.strip("\n"), metadata=metadata or {})
    if tags:
        c.metadata["tags"] = tags
    return c


def params(src):
    """The cell papermill's -p values replace (tag `parameters`)."""
    return code(src, ["parameters"])


def check(err="err"):
    """The Go lines that stop a cell on a non-nil error."""
    return f"if {err} != nil {{\n\tpanic({err})\n}}\n"


def write(name, cells):
    """Validate and write notebooks/NAME.ipynb with cell ids cell-0, cell-1, … (into
    $NBGEN_OUT instead when set: tests/test_notebooks.py checks that the checked-in
    notebooks are what their generators write)."""
    n = new_notebook(cells=cells, metadata=META)
    for i, c in enumerate(n.cells):
        c["id"] = f"cell-{i}"
    nbformat.validate(n)
    path = pathlib.Path(os.environ.get("NBGEN_OUT") or NOTEBOOKS) / f"{name}.ipynb"
    nbformat.write(n, path)
    print("wrote", path)
    return path
