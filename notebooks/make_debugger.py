"""Writes notebooks/debugger.ipynb: a walk through JupyterLab's debugger on a golem
kernel (JEP 47). Its two code cells are the ones tests/test_lab_control.py runs in
JupyterLab with a breakpoint on line 3 of the first; under papermill (no debugger)
they simply run. Run: python notebooks/make_debugger.py"""

from nbgen import code, md, write

CELLS = [
    ("markdown", """# Stop at a breakpoint in a cell

golem's kernel speaks the Jupyter debugger protocol, so JupyterLab's debugger works on Go cells:

1. Click the bug icon in the notebook's toolbar (it turns orange: the debugger is attached).
2. Run the next cell: it defines `Shout`.
3. Click left of line 3 of that cell (`out := strings.Repeat(up, n)`): a red dot, and the breakpoint
   appears in the debugger sidebar.
4. Run the cell after it. It stops at line 3: the sidebar's *Callstack* shows `Shout` called from
   `cell`, *Variables* shows `word`, `n` and `up`; *Next* steps one line, *Continue* finishes the cell
   and its result appears.

Breakpoints work in any function of an earlier cell that ran while the debugger was attached, and in
the running cell's own lines. docs/kernel.md, *Debugger*, lists what is supported and the limits."""),
    ("code", """import "strings"
func Shout(word string, n int) string {
	up := strings.ToUpper(word)
	out := strings.Repeat(up, n)
	return out
}"""),
    ("code", """greeting := "go"
Shout(greeting, 3)"""),
]


write("debugger", [md(src) if kind == "markdown" else code(src, *tags) for kind, src, *tags in CELLS])
