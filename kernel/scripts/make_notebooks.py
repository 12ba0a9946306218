"""Write the kernel area's notebooks (params, fail, quickstart) with nbformat.

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

quickstart = nb([
    new_markdown_cell(
        "# golem quick start\n\n"
        "Go in a live interpreter: values stay in memory from cell to cell, and the "
        "`display` package shows rich output."
    ),
    new_code_cell('import (\n\t"fmt"\n\t"strings"\n\t"time"\n)\n\ngreeting := "hello from Go"\nwords := strings.Fields(greeting)'),
    new_markdown_cell("`words` is still there: the last expression of a cell is its result."),
    new_code_cell("len(words)"),
    new_code_cell(
        'display.HTML(fmt.Sprintf("<b>%s</b> has <i>%d</i> words", greeting, len(words)))'
    ),
    new_code_cell(
        "rows := [][]string{}\n"
        "for i, w := range words {\n"
        '\trows = append(rows, []string{fmt.Sprint(i), w, strings.ToUpper(w)})\n'
        "}\n"
        'display.Show(display.Table([]string{"#", "word", "upper"}, rows))'
    ),
    new_code_cell(
        'p := display.NewProgress("counting", 5)\n'
        "for i := 0; i < 5; i++ {\n"
        "\ttime.Sleep(50 * time.Millisecond)\n"
        '\tp.Add(1, fmt.Sprintf("step %d", i+1))\n'
        "}\n"
        'p.Done("done")'
    ),
])

for name, n in [("params", params), ("fail", fail), ("quickstart", quickstart)]:
    nbformat.validate(n)
    path = ROOT / "notebooks" / f"{name}.ipynb"
    nbformat.write(n, path)
    print("wrote", path)
