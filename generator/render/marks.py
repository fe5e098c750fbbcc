"""How a translated page marks a part shown in the authoritative language (a stale or missing
translation): the part's elements carry that language's ``lang`` and ``dir``, and a note in the
reader's language says why. Template globals written in Python: they are called for every
rule of every page, where a Jinja2 macro costs ten times as much."""

from __future__ import annotations

import jinja2
from markupsafe import Markup, escape

from .i18n import N_

STALE_LABEL, STALE_TEXT = N_("Translation out of date:"), N_(
    "this text changed after it was translated, so the authoritative text is shown, in %(language)s.")
MISSING_LABEL, MISSING_TEXT = N_("Not yet translated:"), N_("the authoritative text is shown, in %(language)s.")


def _source(ctx) -> str:
    return f' lang="{escape(ctx["source_lang"])}" dir="{escape(ctx["source_dir"])}"'


@jinja2.pass_context
def src_attrs(ctx, key: str) -> Markup:
    """` lang=".." dir=".."` on an element shown in the authoritative language, else nothing."""
    return Markup(_source(ctx)) if ctx["fallback"].get(key) else Markup("")


@jinja2.pass_context
def src_text(ctx, key: str, text: str) -> Markup:
    """``text``, in a span marked with the authoritative language when it is shown in it."""
    if ctx["fallback"].get(key):
        return Markup(f"<span{_source(ctx)}>{escape(text)}</span>")
    return escape(text)


def _note(ctx, key: str) -> tuple[str, str] | None:
    state = ctx["fallback"].get(key)
    if state == "stale":
        return STALE_LABEL, STALE_TEXT
    if state == "missing":
        return MISSING_LABEL, MISSING_TEXT
    return None


@jinja2.pass_context
def translation_note(ctx, key: str) -> Markup:
    note = _note(ctx, key)
    if note is None:
        return Markup("")
    _ = ctx["_"]
    return Markup('\n<p class="translation-note" role="note" data-pagefind-ignore><strong>{}</strong> {}</p>').format(
        _(note[0]), _(note[1], language=ctx["source_name"]))


@jinja2.pass_context
def md_note(ctx, key: str) -> str:
    """The Markdown twin's note."""
    note = _note(ctx, key)
    if note is None:
        return ""
    _ = ctx["_"]
    return f"\n\n> **{_(note[0])}** {_(note[1], language=ctx['source_name'])}"


# A page with nothing shown in the authoritative language (every page of that language) gets these
# instead, as page values over the globals: the same output, called without the page's context.
def _no_attrs(key: str) -> Markup:
    return Markup("")


def _plain_text(key: str, text: str) -> Markup:
    return escape(text)


def _no_md_note(key: str) -> str:
    return ""


NO_FALLBACK = {"src_attrs": _no_attrs, "src_text": _plain_text, "translation_note": _no_attrs, "md_note": _no_md_note}
