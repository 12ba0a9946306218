"""Print the outputs of an executed notebook readably on a terminal.

Usage: show_notebook.py NOTEBOOK.ipynb
Each code cell's outputs are printed under a "[n]" marker: streams as they are
(consecutive stream outputs as one text, as a front end shows them: streamed
generation arrives in many messages), results and displays as their text/plain form (HTML without tags when that is
all there is), errors as their traceback. Exits 1 if the notebook holds an error.
"""
import html
import re
import sys

import nbformat


def plain(data):
    if "text/plain" in data:
        return data["text/plain"]
    if "text/html" in data:
        return html.unescape(re.sub(r"<[^>]+>", "", data["text/html"]))
    return "<" + ", ".join(sorted(data)) + ">"


def main(path):
    nb = nbformat.read(path, as_version=4)
    failed = False
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.outputs:
            continue
        print(f"[{cell.get('execution_count') or ' '}]")
        for i, o in enumerate(cell.outputs):
            t = o.output_type
            if t == "stream":
                sys.stdout.write(o.text)
                after = cell.outputs[i + 1] if i + 1 < len(cell.outputs) else None
                if not o.text.endswith("\n") and (after is None or after.output_type != "stream" or after.name != o.name):
                    sys.stdout.write("\n")
            elif t in ("execute_result", "display_data"):
                print(plain(o.data))
            elif t == "error":
                failed = True
                print("\n".join(o.traceback) or f"{o.ename}: {o.evalue}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: show_notebook.py NOTEBOOK.ipynb")
    sys.exit(main(sys.argv[1]))
