"""Go parameters for papermill.

papermill has no Go translator and no entry point group for translators, but it
loads every ``papermill.engine`` entry point when it is imported. This package
declares one (the engine ``golem``) and registers :class:`GoTranslator` for the kernel ``golem`` and
the language ``go`` as a side effect of being imported, so ``papermill -k golem
-p name value`` works with the default engine too.

Importing it also makes :class:`GolemEngine` papermill's default engine. It is
nbclient's engine with one fix: nbclient answers output that a cell writes into
an Output widget by sending ``comm_msg`` on the shell channel while it awaits
that cell's ``execute_reply`` on the same socket, and jupyter_client's
``Session.send`` writes through a blocking shadow of the asyncio socket. The
write processes the socket's pending commands, which clears the notification of
a reply that has just arrived, so the asyncio poll never wakes and the run hangs
with the reply in the socket (one run in three to five of
``notebooks/generate_widgets.ipynb`` under papermill's nbclient engine; ipykernel with ipywidgets hangs the same
way). :class:`ShellSafeChannel` asks the asyncio socket for its events after
each send, which wakes the poll when a message is waiting. nbconvert takes the
same fix with ``--ExecutePreprocessor.kernel_manager_class=golem_papermill.engine.KernelManager``.

The parameters cell papermill injects is one Go ``var`` block::

    // Parameters
    var (
        name = "héllo"
        epochs = 3
        lr = 0.001
        verbose = true
        nothing any = nil
        sizes = []int{1, 2, 3}
        opts = map[string]any{"a": 1, "b": "x"}
    )

A cell that declares a name again replaces the earlier declaration (golem's cell
semantics), so the injected cell overrides the notebook's own parameters cell.
"""

from __future__ import annotations

import math
import re

from papermill.engines import papermill_engines
from papermill.models import Parameter
from papermill.translators import Translator, papermill_translators

from .engine import GolemEngine, KernelClient, KernelManager, ShellSafeChannel

__all__ = ["GoTranslator", "GolemEngine", "KernelClient", "KernelManager", "ShellSafeChannel", "go_string"]

_GO_KEYWORDS = frozenset(
    "break case chan const continue default defer else fallthrough for func go goto if "
    "import interface map package range return select struct switch type var".split()
)
_IDENT = re.compile(r"^[^\W\d]\w*$")


def go_string(s: str) -> str:
    """Return s as a Go interpreted string literal; UTF-8 text is kept as is."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif 0xD800 <= o <= 0xDFFF:
            raise ValueError(f"string {s!r} holds a lone surrogate U+{o:04X}, which Go strings cannot hold")
        elif not ch.isprintable():
            out.append(f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class GoTranslator(Translator):
    """Translates papermill parameters into a Go ``var`` block."""

    @classmethod
    def translate_str(cls, val):
        return go_string(val)

    @classmethod
    def translate_escaped_str(cls, str_val):
        return go_string(str(str_val))

    @classmethod
    def translate_none(cls, val):
        return "nil"

    @classmethod
    def translate_int(cls, val):
        return str(val)

    @classmethod
    def translate_float(cls, val):
        if math.isnan(val):
            return "math.NaN()"
        if math.isinf(val):
            return "math.Inf(1)" if val > 0 else "math.Inf(-1)"
        r = repr(val)
        if "e" not in r and "." not in r:
            r += ".0"
        return r

    @classmethod
    def translate_bool(cls, val):
        return "true" if val else "false"

    @classmethod
    def element_type(cls, vals) -> str:
        """The Go element type of a list: typed when uniform, else any."""
        if not vals:
            return "any"
        if all(isinstance(v, str) for v in vals):
            return "string"
        if all(isinstance(v, bool) for v in vals):
            return "bool"
        if all(_is_int(v) for v in vals):
            return "int"
        if all(_is_int(v) or isinstance(v, float) for v in vals):
            return "float64"
        return "any"

    @classmethod
    def translate_list(cls, val):
        typ = cls.element_type(val)
        if typ == "float64":
            items = [cls.translate_float(float(v)) for v in val]
        else:
            items = [cls.translate(v) for v in val]
        return f"[]{typ}{{{', '.join(items)}}}"

    @classmethod
    def translate_dict(cls, val):
        items = []
        for k, v in val.items():
            if not isinstance(k, str):
                raise ValueError(f"map key {k!r} is not a string: Go parameters take map[string]any")
            items.append(f"{go_string(k)}: {cls.translate(v)}")
        return f"map[string]any{{{', '.join(items)}}}"

    @classmethod
    def translate(cls, val):
        if isinstance(val, tuple):
            val = list(val)
        return super().translate(val)

    @classmethod
    def comment(cls, cmt_str):
        return f"// {cmt_str}".strip()

    @classmethod
    def assign(cls, name, str_val):
        return f"{name} = {str_val}"

    @classmethod
    def codify(cls, parameters, comment="Parameters"):
        lines = []
        for name, val in parameters.items():
            if not _IDENT.match(name) or name in _GO_KEYWORDS:
                raise ValueError(f"parameter name {name!r} is not a Go identifier")
            go = cls.translate(val)
            if val is None:
                lines.append(f"\t{name} any = {go}")
            else:
                lines.append(f"\t{name} = {go}")
        body = "\n".join(lines)
        head = f"{cls.comment(comment)}\n"
        if "math.Inf(" in body or "math.NaN()" in body:
            head += 'import "math"\n\n'
        if not lines:
            return head
        return f"{head}var (\n{body}\n)\n"

    # name := value | var name [type] = value | name [type] = value (inside var (...)),
    # with an optional trailing // comment as the help text.
    _PARAM = re.compile(
        r"^\s*(?:var\s+)?(?P<name>[^\W\d]\w*)\s*(?P<type>[^=:]*?)\s*:?=\s*(?P<value>.*?)\s*(?://\s*(?P<help>.*))?$"
    )

    @classmethod
    def inspect(cls, parameters_cell):
        params = []
        for line in parameters_cell.source.splitlines():
            s = line.strip()
            if not s or s.startswith("//") or s.startswith("import") or s in ("var (", ")"):
                continue
            m = cls._PARAM.match(s)
            if not m or m.group("name") in _GO_KEYWORDS:
                continue
            typ = m.group("type").strip() or cls._infer(m.group("value"))
            params.append(
                Parameter(
                    name=m.group("name"),
                    inferred_type_name=typ,
                    default=m.group("value"),
                    help=(m.group("help") or "").strip(),
                )
            )
        return params

    @staticmethod
    def _infer(value: str) -> str:
        v = value.strip()
        if v.startswith(('"', "`")):
            return "string"
        if v in ("true", "false"):
            return "bool"
        if v == "nil":
            return "NoneType"
        if re.fullmatch(r"-?\d+", v):
            return "int"
        if re.fullmatch(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?", v) or v.startswith("math."):
            return "float64"
        m = re.match(r"^(\[\][\w.]+|map\[[\w.]+\][\w.]+)\{", v)
        return m.group(1) if m else "None"


def register() -> None:
    """Register the Go translator for the golem kernel and the Go language, and
    :class:`GolemEngine` as papermill's default engine."""
    papermill_translators.register("golem", GoTranslator)
    papermill_translators.register("go", GoTranslator)
    papermill_engines.register(None, GolemEngine)


register()
