"""render/compiled.py: the templates' faster escaping and calls write what Jinja2's own would."""

from __future__ import annotations

import enum

import jinja2
import markupsafe
import pytest

from generator.render import compiled
from generator.render.engine import html_environment, text_environment


class Shown:
    def __html__(self) -> str:
        return "<b>already markup</b>"

    def __str__(self) -> str:
        return "<never used>"


class Word(str):
    pass


class Loud(markupsafe.Markup):
    pass


class Colour(enum.Enum):
    RED = "<red>"


VALUES = ["", "plain", "a & b", "<script>alert('x')</script>", 'say "hi"', "it's", "&amp; twice",
          "ünïcødé → ✓ 中文 \u0000 \U0001F600", 7, 0, -1.5, None, True, [1, "<x>"], {"k": "<v>"},
          markupsafe.Markup("<i>safe</i>"), Loud("<i>loud</i>"), Word("<word>"), Shown(), Colour.RED]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_escape_output_writes_what_markupsafe_escape_writes(value):
    assert compiled.escape_output(value) == str(markupsafe.escape(value))


def test_escape_output_without_markupsafe_speedups(monkeypatch):
    """markupsafe's private escaper may go away: the public one is used then."""
    monkeypatch.setattr(compiled, "_escape_text", None)
    for value in VALUES:
        assert compiled.escape_output(value) == str(markupsafe.escape(value))


SOURCE = """{%- macro box(x) -%}<b title="{{ x }}">{{ x }}</b>{%- endmacro -%}
{{ value }}|{{ box(value) }}|{{ shout(value) }}|{{ ctx_word() }}|{{ env_word() }}|{{ obj.method(value) }}|{{ obj.with_context(value) }}|{{ [1, 2].index(2) }}|
{%- for v in [value, safe] %}[{{ v }}{{ shout(v) }}]{% endfor %}|
{%- set block %}<{{ value }}>{% endset %}{{ block }}|{% for w in ["<w>"] %}{{ loop_word() }}{{ shout(w) }}{% endfor %}|{{ callable_obj(value) }}|{{ cls(value) }}|{{ kw(obj=1, self=2) }}"""


class Obj:
    def method(self, v):
        return f"m:{v}"

    @jinja2.pass_context
    def with_context(self, ctx, v):
        return f"{ctx['marker']}/{v}"


class CallMe:
    def __call__(self, v):
        return f"c:{v}"


class Ctxd:
    @jinja2.pass_context
    def __call__(self, ctx, v):
        return f"{ctx['marker']}:{v}"


def _values():
    def stop():
        raise StopIteration

    @jinja2.pass_context
    def ctx_word(ctx):
        return ctx["marker"]

    @jinja2.pass_context
    def loop_word(ctx):
        return ctx.get("w")

    @jinja2.pass_environment
    def env_word(env):
        return isinstance(env, jinja2.Environment)

    return dict(value="<a & 'b'>", safe=markupsafe.Markup("<em>ok</em>"), shout=lambda v: f"{v}!",
                ctx_word=ctx_word, loop_word=loop_word, env_word=env_word, obj=Obj(), stop=stop, callable_obj=CallMe(),
                cls=Ctxd(), kw=lambda **k: sorted(k.items()), marker="<mark>")


@pytest.mark.parametrize("autoescape", [True, False])
def test_a_template_renders_as_with_jinja2s_own_code(autoescape):
    ours = (html_environment() if autoescape else text_environment()).overlay(loader=None)
    theirs = jinja2.Environment(autoescape=autoescape, undefined=jinja2.StrictUndefined)
    got = ours.from_string(SOURCE).render(**_values())
    want = theirs.from_string(SOURCE).render(**_values())
    assert got == want
    if autoescape:
        assert "&lt;a &amp; &#39;b&#39;&gt;" in got and "<em>ok</em>" in got and "<script" not in got


@pytest.mark.parametrize("undefined", [jinja2.Undefined, jinja2.StrictUndefined])
def test_a_callable_raising_stopiteration_gives_undefined_as_in_jinja2(undefined):
    def stop():
        raise StopIteration

    results = []
    for env in (html_environment().overlay(loader=None, undefined=undefined),
                jinja2.Environment(autoescape=True, undefined=undefined)):
        try:
            results.append(("text", env.from_string("[{{ stop() }}]").render(stop=stop)))
        except jinja2.UndefinedError as error:
            results.append(("error", str(error)))
    assert results[0] == results[1]
    assert "StopIteration" in str(results[0]) or results[0] == ("text", "[]")


def test_the_templates_are_compiled_with_escape_output():
    env = html_environment()
    source = env.loader.get_source(env, "_rule.html")[0]
    code = env.compile(source, "_rule.html", raw=True)
    assert "escape_output(" in code and " escape(" not in code
    assert isinstance(env.from_string("{{ x }}").new_context({}), compiled.Context)


@pytest.mark.parametrize("text", ["Link to rule %(id)s", "%(a)s and %(b)s", "100%% of %(a)s", "no fields",
                                  "%(a)r", "%(a)5s", "%(a)s %%(b)s", "<b>%(a)s</b> & more"])
def test_interface_text_with_values_is_what_markup_formatting_gives(text):
    from generator.render.engine import interface_context

    gettext = interface_context(None, (), True)["_"]
    for value in ["<x & 'y'>", markupsafe.Markup("<i>ok</i>"), 7, None, Word("<w>"), Shown()]:
        values = {"a": value, "b": "b&", "id": value} if "%(" in text else {}
        want = markupsafe.escape(text) % values if values or "%" in text else markupsafe.escape(text)
        got = gettext(text, **values)
        assert got == want and isinstance(got, markupsafe.Markup), (text, value)
