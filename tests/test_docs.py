"""Docs that run: every Go snippet of README.md and docs/*.md, run in a real golem
kernel, document by document, each snippet as one cell, in order — so the docs
cannot rot.

- A ```go block is a notebook cell: it must run without an error. The cells of a
  document share one kernel, started in a fresh directory, with a `golem serve`
  reachable through GOLEM_URL / GOLEM_API_KEY (an admin key, for docs/functions.md); input
  requests are answered with "golem".
- A ```go ref block is Go meant for a program, not a cell (the session API, the
  CUDA backend, a function's shape): it must parse as Go (gofmt -e), as a file,
  as declarations or as statements.
- A ```sh run block runs with bash in that document's directory, bin/ on PATH,
  after the document's cells, and must exit 0 (ADMIN_KEY and APP_KEY, a key of the
  invoke scope, are set as the README's set-up exports them).
"""

import os
import pathlib
import re
import shutil
import subprocess
import time
from queue import Empty

import pytest
from jupyter_client.manager import start_new_kernel

from test_deploy_magic import APP_KEY, KEY, host  # noqa: F401  (the golem serve fixture)

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```(\w+)?([^\n]*)\n(.*?)^```\s*$", re.M | re.S)


def blocks(path):
    """(language, flags, code, line) of every fenced block of a Markdown file."""
    text = path.read_text()
    for m in FENCE.finditer(text):
        yield (m.group(1) or ""), m.group(2).split(), m.group(3), text[:m.start()].count("\n") + 1


def gofmt():
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    return os.path.join(goroot, "bin", "gofmt")


def parses(code):
    """The error of the last way code was tried as Go, or None when one parses."""
    err = None
    for src in (code, "package p\n" + code, "package p\nfunc _() {\n" + code + "\n}\n"):
        r = subprocess.run([gofmt(), "-e"], input=src, capture_output=True, text=True)
        if r.returncode == 0:
            return None
        err = r.stderr
    return err


def run_cell(kc, code, timeout=600):
    """Runs one cell; answers input requests; returns (reply content, error text)."""
    msg_id = kc.execute(code, allow_stdin=True)
    deadline = time.time() + timeout
    while True:
        try:
            m = kc.get_stdin_msg(timeout=0.05)
            if m["msg_type"] == "input_request":
                kc.input("golem")
        except Empty:
            pass
        try:
            r = kc.get_shell_msg(timeout=0.05)
        except Empty:
            if time.time() > deadline:
                pytest.fail(f"cell did not finish in {timeout}s:\n{code}")
            continue
        if r["parent_header"].get("msg_id") == msg_id:
            c = r["content"]
            return c, "\n".join(c.get("traceback", [])) if c["status"] != "ok" else ""


@pytest.mark.parametrize("doc", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_doc_snippets(doc, host, tmp_path):  # noqa: F811
    cells, refs, shells = [], [], []
    for lang, flags, code, line in blocks(doc):
        if lang == "go" and "ref" in flags:
            refs.append((line, code))
        elif lang == "go":
            cells.append((line, code))
        elif lang in ("sh", "bash") and "run" in flags:
            shells.append((line, code))
    for line, code in refs:
        err = parses(code)
        assert err is None, f"{doc.name}:{line}: a ```go ref block that is not Go:\n{err}\n{code}"
    if cells:
        env = dict(os.environ, GOLEM_URL=host, GOLEM_API_KEY=KEY)
        km, kc = start_new_kernel(kernel_name="golem", startup_timeout=60, env=env, cwd=str(tmp_path))
        try:
            for line, code in cells:
                reply, err = run_cell(kc, code)
                assert reply["status"] == "ok", f"{doc.name}:{line}: the snippet fails in the kernel:\n{code}\n---\n{err}"
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    bindir = str(ROOT / "bin")
    for line, code in shells:
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=tmp_path, capture_output=True, text=True,
                           timeout=600, env=dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"],
                                                 GOLEM_URL=host, GOLEM_API_KEY=KEY, GOLEM_ROOT=str(ROOT),
                                                 ADMIN_KEY=KEY, APP_KEY=APP_KEY))
        assert r.returncode == 0, f"{doc.name}:{line}: the ```sh run block fails:\n{code}\n---\n{r.stdout[-2000:]}{r.stderr[-2000:]}"


def test_tree_table_names_every_package():
    """README's "The tree is the pipeline" names every package of the module
    (`go list ./...`, the tools/ peer and benchmark programs aside), so the map
    of the tree cannot fall behind it."""
    text = (ROOT / "README.md").read_text()
    table = text[text.index("## The tree is the pipeline"):]
    table = table[:table.index("\n\n", table.index("|"))]
    named = set(re.findall(r"`([a-z0-9_/]+?)/?`", table))
    out = subprocess.run(["go", "list", "./..."], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    mod = "github.com/golem-lm/golem/"
    missing = []
    for pkg in out.split():
        rel = pkg[len(mod):] if pkg.startswith(mod) else ""
        if not rel or rel.startswith("tools/") or rel == "lmlib/tokenizer/bench":
            continue
        if rel not in named:
            missing.append(rel)
    assert not missing, f"README's tree table does not name {missing}"
