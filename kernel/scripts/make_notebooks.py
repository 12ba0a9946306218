"""Write the kernel tests' notebooks (params, fail) with nbformat; the quick-start notebook
has its own generator, notebooks/make_quickstart.py.

Run: .venv/bin/python kernel/scripts/make_notebooks.py   (rewrites notebooks/*.ipynb)
"""
import pathlib

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = pathlib.Path(__file__).resolve().parents[2]
META = {
    "kernelspec": {"name": "golem", "display_name": "Go (golem)", "language": "go"},
    "language_info": {"name": "go", "file_extension": ".go", "mimetype": "text/x-go"},
}


def nb(cells):
    n = new_notebook(cells=cells, metadata=META)
    for i, c in enumerate(n.cells):
        c["id"] = f"cell-{i}"
    return n


params = nb([
    new_markdown_cell("Parameters of every type for papermill (`-p` / `-y`); the next cell prints them back."),
    new_code_cell(
        'import (\n\t"fmt"\n\t"math"\n)\n\n'
        "var (\n"
        '\tname = "world"\n'
        "\tcount = 1\n"
        "\tratio = 0.5\n"
        "\tlimit = math.Inf(1)\n"
        "\tenabled = false\n"
        "\tnothing any = nil\n"
        "\tsizes = []int{1}\n"
        "\tlabels = []string{}\n"
        "\topts = map[string]any{}\n"
        ")",
        metadata={"tags": ["parameters"]},
    ),
    new_code_cell(
        'fmt.Printf("name %T %q\\n", name, name)\n'
        'fmt.Printf("count %T %v\\n", count, count)\n'
        'fmt.Printf("ratio %T %v\\n", ratio, ratio)\n'
        'fmt.Printf("limit %T %v\\n", limit, limit)\n'
        'fmt.Printf("enabled %T %v\\n", enabled, enabled)\n'
        'fmt.Printf("nothing %v\\n", nothing == nil)\n'
        'fmt.Printf("sizes %T %v\\n", sizes, sizes)\n'
        'fmt.Printf("labels %T %q\\n", labels, labels)\n'
        'fmt.Printf("opts %T %v\\n", opts, opts)'
    ),
])

fail = nb([
    new_code_cell('import "fmt"\nfmt.Println("before the failure")'),
    new_code_cell('var shards []string\nfmt.Println("opening", shards[3])'),
    new_code_cell('fmt.Println("never printed")'),
])

for name, n in [("params", params), ("fail", fail)]:
    nbformat.validate(n)
    path = ROOT / "notebooks" / f"{name}.ipynb"
    nbformat.write(n, path)
    print("wrote", path)
