"""How the HTML templates run: the same output as Jinja2's own code, with less work per value.

A page of 10 rules writes some 400 values and makes some 100 calls from its templates; at 5,000
documents that is 2,000,000 escapes and 1,000,000 calls, a tenth of a build's CPU. Two hooks that
Jinja2 offers (``Environment.code_generator_class`` and ``context_class``) take the overhead off
the common cases and leave every other case to Jinja2 itself:

- ``escape_output``: what ``{{ value }}`` writes. ``markupsafe.escape`` wraps each result in a new
  ``Markup``, which the page then joins into one string; the output needs the escaped text only.
  Plain text is escaped by markupsafe's own escaper; ``Markup`` is written as it is (its
  ``__html__`` is itself); anything else goes to ``markupsafe.escape``. The text written is the
  same, character for character (tests/test_compiled.py compares every kind of value).
- ``Context.call``: a call from a template (``_("...")``, a macro, ``links.href(...)``) asks
  Jinja2 whether the callable wants the context passed in. For a plain function, a bound method, a
  built-in or a macro that does not (no ``jinja_pass_arg``), it is called straight away.
"""

from __future__ import annotations

from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any

import jinja2
import markupsafe
from jinja2.compiler import CodeGenerator
from jinja2.runtime import Macro

# What the compiled templates are: part of the key of the template cache (engine.py), so that
# code compiled by another version of this module is never loaded.
VERSION = "1"

_escape_text = getattr(markupsafe, "_escape_inner", None)
_Markup = markupsafe.Markup
_escape = markupsafe.escape


def escape_output(value: Any) -> str:
    """The text ``{{ value }}`` writes in an autoescaped template: markupsafe.escape(value), as str."""
    kind = type(value)
    if kind is str and _escape_text is not None:
        return _escape_text(value)
    if kind is _Markup:
        return value
    return _escape(value)


class Generator(CodeGenerator):
    """Jinja2's code generator, writing escape_output where it writes escape(...) for output."""

    def visit_Template(self, node, frame=None):
        self.writeline(f"from {__name__} import escape_output")
        super().visit_Template(node, frame)

    def _output_child_pre(self, node, frame, finalize):
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("escape_output(")
            if finalize.src is not None:
                self.write(finalize.src)
        else:
            super()._output_child_pre(node, frame, finalize)


_DIRECT = (FunctionType, MethodType, BuiltinFunctionType, Macro)


class Context(jinja2.runtime.Context):
    """Jinja2's context, calling callables that take no context straight away."""

    def call(self, obj, /, *args, **kwargs):
        if type(obj) in _DIRECT and getattr(obj, "jinja_pass_arg", None) is None:
            if kwargs:
                kwargs.pop("_block_vars", None)
                kwargs.pop("_loop_vars", None)
            try:
                return obj(*args, **kwargs)
            except StopIteration:  # as Jinja2 does
                return self.environment.undefined(
                    "value was undefined because a callable raised a StopIteration exception")
        return super().call(obj, *args, **kwargs)
