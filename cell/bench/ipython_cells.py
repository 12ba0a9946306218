"""Peer for `make bench-session`: IPython's in-process cell execution.

Runs N trivial cells ("1+1") through InteractiveShell.run_cell, the same layer as
golem's cell.Session.Execute (no wire protocol), and prints cells per second.
"""
import contextlib
import io
import sys
import time

from IPython.core.interactiveshell import InteractiveShell


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    shell = InteractiveShell.instance()
    shell.run_cell("1+1", silent=True)  # warm up
    out = io.StringIO()  # the displayhook prints Out[n]; golem builds a bundle instead
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        for _ in range(n):
            r = shell.run_cell("1+1", store_history=True)
            if not r.success:
                raise SystemExit(f"cell failed: {r.error_in_exec or r.error_before_exec}")
    elapsed = time.perf_counter() - start
    print(f"{n / elapsed:.1f}")


if __name__ == "__main__":
    main()
