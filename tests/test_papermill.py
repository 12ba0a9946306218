"""papermill with the golem kernel: the Go parameter translator and failing notebooks.

golem_papermill (kernel/papermill) must be installed in the venv (`make test` does it).
"""

import json
import math
import pathlib
import subprocess
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def papermill(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "papermill", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def stdout_of(nb, cell_index):
    outs = nb.cells[cell_index].outputs
    return "".join(o.get("text", "") for o in outs if o.output_type == "stream" and o.name == "stdout")


def test_translator_is_registered_for_kernel_and_language():
    from papermill.translators import papermill_translators

    from golem_papermill import GoTranslator

    assert papermill_translators.find_translator("golem", "go") is GoTranslator
    assert papermill_translators.find_translator("some-other-go-kernel", "go") is GoTranslator


def test_translator_codify():
    from golem_papermill import GoTranslator

    got = GoTranslator.codify({
        "s": 'héllo "wörld"\n\\ \x01\t\u2028',
        "i": -42,
        "f": 2.5,
        "tiny": 1e-7,
        "whole": 3.0,
        "pinf": math.inf,
        "ninf": -math.inf,
        "nan": math.nan,
        "yes": True,
        "none": None,
        "ints": [1, 2],
        "floats": [1, 2.5],
        "strs": ["a", "b"],
        "mixed": [1, "a", None, [True]],
        "empty": [],
        "m": {"lr": 0.1, "tags": ["x"], "nested": {"k": None}},
    })
    assert got == (
        "// Parameters\n"
        'import "math"\n\n'
        "var (\n"
        '\ts = "héllo \\"wörld\\"\\n\\\\ \\x01\\t\\u2028"\n'
        "\ti = -42\n"
        "\tf = 2.5\n"
        "\ttiny = 1e-07\n"
        "\twhole = 3.0\n"
        "\tpinf = math.Inf(1)\n"
        "\tninf = math.Inf(-1)\n"
        "\tnan = math.NaN()\n"
        "\tyes = true\n"
        "\tnone any = nil\n"
        "\tints = []int{1, 2}\n"
        "\tfloats = []float64{1.0, 2.5}\n"
        '\tstrs = []string{"a", "b"}\n'
        '\tmixed = []any{1, "a", nil, []bool{true}}\n'
        "\tempty = []any{}\n"
        '\tm = map[string]any{"lr": 0.1, "tags": []string{"x"}, "nested": map[string]any{"k": nil}}\n'
        ")\n"
    )
    assert GoTranslator.codify({"n": 1}) == "// Parameters\nvar (\n\tn = 1\n)\n"


@pytest.mark.parametrize("params, message", [
    ({"my-param": 1}, "not a Go identifier"),
    ({"func": 1}, "not a Go identifier"),
    ({"s": "\ud800"}, "lone surrogate"),
    ({"m": {1: "x"}}, "not a string"),
])
def test_translator_rejects(params, message):
    from golem_papermill import GoTranslator

    with pytest.raises(ValueError, match=message):
        GoTranslator.codify(params)


def test_translator_inspect():
    from golem_papermill import GoTranslator

    nb = nbformat.read(NOTEBOOKS / "params.ipynb", as_version=4)
    params = {p.name: p for p in GoTranslator.inspect(nb.cells[1])}
    assert list(params) == ["name", "count", "ratio", "limit", "enabled", "nothing", "sizes", "labels", "opts"]
    assert params["name"].inferred_type_name == "string" and params["name"].default == '"world"'
    assert params["count"].inferred_type_name == "int"
    assert params["limit"].inferred_type_name == "float64"
    assert params["nothing"].inferred_type_name == "any"
    assert params["sizes"].inferred_type_name == "[]int"


EXPECTED_DEFAULTS = (
    'name string "world"\n'
    "count int 1\n"
    "ratio float64 0.5\n"
    "limit float64 +Inf\n"
    "enabled bool false\n"
    "nothing true\n"
    "sizes []int [1]\n"
    "labels []string []\n"
    "opts map[string]interface {} map[]\n"
)


def test_params_notebook_defaults(tmp_path):
    out = tmp_path / "out.ipynb"
    r = papermill(NOTEBOOKS / "params.ipynb", out, "-k", "golem")
    assert r.returncode == 0, r.stderr
    nb = nbformat.read(out, as_version=4)
    assert stdout_of(nb, len(nb.cells) - 1) == EXPECTED_DEFAULTS


def test_params_notebook_every_type(tmp_path):
    out = tmp_path / "out.ipynb"
    r = papermill(
        NOTEBOOKS / "params.ipynb", out, "-k", "golem",
        "-p", "name", 'héllo "wörld"\\n 世界',
        "-p", "count", "42",
        "-p", "ratio", "2.5",
        "-p", "limit", "-inf",
        "-p", "enabled", "True",
        "-p", "nothing", "None",
        "-y", "sizes: [1, 2, 3]",
        "-y", "labels: [a, 'b c']",
        "-y", 'opts: {lr: 0.001, name: x, steps: 10, nested: {ok: true}}',
    )
    assert r.returncode == 0, r.stderr
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and injected[0].source.startswith("// Parameters")
    assert stdout_of(nb, len(nb.cells) - 1) == (
        'name string "héllo \\"wörld\\"\\\\n 世界"\n'
        "count int 42\n"
        "ratio float64 2.5\n"
        "limit float64 -Inf\n"
        "enabled bool true\n"
        "nothing true\n"
        "sizes []int [1 2 3]\n"
        'labels []string ["a" "b c"]\n'
        "opts map[string]interface {} map[lr:0.001 name:x nested:map[ok:true] steps:10]\n"
    )


def test_params_with_golem_engine(tmp_path):
    out = tmp_path / "out.ipynb"
    r = papermill(NOTEBOOKS / "params.ipynb", out, "-k", "golem", "--engine", "golem", "-p", "count", "7")
    assert r.returncode == 0, r.stderr
    nb = nbformat.read(out, as_version=4)
    assert "count int 7\n" in stdout_of(nb, len(nb.cells) - 1)


def test_failing_notebook_fails_papermill(tmp_path):
    out = tmp_path / "out.ipynb"
    r = papermill(NOTEBOOKS / "fail.ipynb", out, "-k", "golem")
    assert r.returncode != 0
    assert "index out of range" in r.stderr  # the Go error is in papermill's report
    nb = nbformat.read(out, as_version=4)
    assert stdout_of(nb, 1) == "before the failure\n"  # cell 0 is papermill's error banner
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert len(errors) == 1 and "index out of range" in errors[0].evalue
    assert not any("never printed" in json.dumps(c.outputs) for c in nb.cells if c.cell_type == "code")


def test_injected_cell_overrides_short_declarations(tmp_path):
    """A parameters cell written with := is overridden by the injected var block."""
    from nbformat.v4 import new_code_cell, new_notebook

    src = tmp_path / "walrus.ipynb"
    nbformat.write(new_notebook(cells=[
        new_code_cell('count := 1\nname := "a"', metadata={"tags": ["parameters"]}),
        new_code_cell('import "fmt"\nfmt.Println(count+1, name)'),
    ], metadata={"kernelspec": {"name": "golem", "display_name": "Go (golem)", "language": "go"}}), src)
    out = tmp_path / "out.ipynb"
    r = papermill(src, out, "-p", "count", "3", "-p", "name", "zz")
    assert r.returncode == 0, r.stderr
    nb = nbformat.read(out, as_version=4)
    assert stdout_of(nb, len(nb.cells) - 1) == "4 zz\n"


def _lost_reply(channel_class):
    """Reproduces the race behind nbclient's hang with widgets: a reply reaches the
    client's asyncio shell socket while a poll waits on it, and a send on the same
    channel (jupyter_client writes through a blocking shadow of the socket) runs
    before the event loop sees the socket's wake-up. Returns whether the poll then
    missed the reply that sits in the socket."""
    import asyncio
    import select

    import zmq
    import zmq.asyncio
    from jupyter_client.session import Session

    async def run():
        ctx = zmq.asyncio.Context()
        router = ctx.socket(zmq.ROUTER)
        port = router.bind_to_random_port("tcp://127.0.0.1")
        dealer = ctx.socket(zmq.DEALER)
        dealer.connect(f"tcp://127.0.0.1:{port}")
        session = Session(key=b"")
        channel = channel_class(dealer, session)
        try:
            channel.send(session.msg("kernel_info_request"))
            ident, *_ = await router.recv_multipart()
            poll = asyncio.ensure_future(channel.socket.poll())  # no timeout, as nbclient's
            await asyncio.sleep(0.05)  # the poll now waits on the socket's descriptor
            session.send(router, "kernel_info_reply", content={}, ident=ident)
            # the reply arrives while the loop is blocked: its wake-up is on the descriptor
            assert select.select([dealer.getsockopt(zmq.FD)], [], [], 10)[0], "no reply in 10 s"
            channel.send(session.msg("comm_msg"))  # nbclient's Output widget sync, same loop turn
            try:
                await asyncio.wait_for(poll, 2)
                lost = False
            except asyncio.TimeoutError:
                lost = True
            assert dealer.get(zmq.EVENTS) & zmq.POLLIN, "the reply never reached the socket"
            return lost
        finally:
            dealer.close(0)
            router.close(0)
            ctx.term()

    return asyncio.run(run())


def test_shell_safe_channel_sees_a_reply_that_a_send_hid():
    """golem_papermill.ShellSafeChannel (the default papermill engine's shell channel)
    wakes the pending poll; jupyter_client's own channel loses the reply, which is
    the nbclient hang of notebooks with Output widgets (tests/test_notebooks.py's
    test_generate_widgets runs that notebook under papermill)."""
    from jupyter_client.channels import AsyncZMQSocketChannel

    from golem_papermill import ShellSafeChannel

    assert _lost_reply(AsyncZMQSocketChannel), "the race did not reproduce: the test proves nothing"
    assert not _lost_reply(ShellSafeChannel)


def test_golem_engine_is_papermill_default():
    from papermill.engines import papermill_engines

    from golem_papermill import GolemEngine

    assert papermill_engines.get_engine(None) is GolemEngine
    assert papermill_engines.get_engine("golem") is GolemEngine
