"""Markdown prose: links must use safe schemes and '#id' links must name a rule or section.

The prose is parsed with markdown-it-py, the same parser that renders it, so what is checked here
is exactly what becomes a link on the page. Raw HTML is refused: policy text is Markdown only.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import urlsplit

from markdown_it import MarkdownIt

from ..errors import Diagnostic
from ..model import Corpus, Origin

SAFE_SCHEMES = ("http", "https", "mailto")


@dataclass(frozen=True, slots=True)
class Prose:
    """A Markdown field: its text and where its value starts in the source."""

    text: str
    origin: Origin
    field: str


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True})
    md.validateLink = lambda url: True  # see every link, including the ones the renderer would drop
    return md


_MD = _parser()


def prose_of(corpus: Corpus) -> Iterable[Prose]:
    for doc in corpus.documents:
        if doc.summary:
            yield Prose(doc.summary, doc.positions.get("summary", doc.origin), "summary")
        for ob in doc.obligations:
            if ob.text:
                yield Prose(ob.text, ob.origin, f"obligation '{ob.id}'")
        for section in doc.walk_sections():
            if section.intro:
                yield Prose(section.intro, section.origin, f"intro of section '{section.id}'")
            for rule in section.rules:
                yield Prose(rule.text, rule.positions.get("text", rule.origin), f"text of rule '{rule.id}'")
    for exc in corpus.exceptions:
        if exc.summary:
            yield Prose(exc.summary, exc.positions.get("summary", exc.origin), "summary")


def check_links(corpus: Corpus, complete: bool = True) -> list[Diagnostic]:
    """Every unsafe or broken link, and every piece of raw HTML, in the corpus's prose.

    With ``complete`` False some policy file failed to load, so '#id' targets are not checked."""
    anchors = (set(corpus.rules) | set(corpus.sections) | set(corpus.obligations)) if complete else None
    out: list[Diagnostic] = []
    for prose in prose_of(corpus):
        text = prose.text
        if "[" not in text and "<" not in text:
            continue  # no link or tag can be written without one of these
        out.extend(_check_text(prose, anchors))
    return out


def _check_text(prose: Prose, anchors: set[str] | None) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    tokens = _MD.parse(prose.text)
    for block in tokens:
        if block.type == "html_block":
            out.append(_at(prose, block.map[0] if block.map else 0, block.content,
                           f"HTML is not allowed in policy text ({_first_tag(block.content)}); "
                           f"use Markdown instead: **bold**, *italic*, [a link](https://...)"))
        for tok in block.children or ():
            if tok.type == "html_inline":
                out.append(_at(prose, block.map[0] if block.map else 0, tok.content,
                               f"HTML is not allowed in policy text ({_first_tag(tok.content)}); "
                               f"use Markdown instead: **bold**, *italic*, [a link](https://...)"))
            elif tok.type in ("link_open", "image"):
                href = tok.attrGet("href" if tok.type == "link_open" else "src") or ""
                problem = _link_problem(href, anchors)
                if problem:
                    out.append(_at(prose, block.map[0] if block.map else 0, href, problem))
    return out


def _link_problem(href: str, anchors: set[str] | None) -> str | None:
    stripped = href.strip()
    try:
        parts = urlsplit(stripped)
    except ValueError:
        return f"the link '{stripped}' is not a valid address; write a full https:// address or '#rule-id'"
    scheme = parts.scheme.lower()
    if scheme and scheme not in SAFE_SCHEMES:
        return (f"link scheme '{scheme}:' is not allowed ('{_short(stripped)}'); links may use "
                f"http, https or mailto, or point inside the policy with '#rule-id'")
    if anchors is not None and not scheme and not parts.netloc and not parts.path and stripped.startswith("#"):
        target = parts.fragment
        if target not in anchors:
            hint = difflib.get_close_matches(target, sorted(anchors), n=1, cutoff=0.7)
            advice = f"did you mean '#{hint[0]}'? " if hint else ""
            return (f"the link '#{target}' points to no rule or section; {advice}"
                    f"use the id of an existing rule or section")
    return None


def _at(prose: Prose, block_line: int, needle: str, message: str) -> Diagnostic:
    """Locate ``needle`` in the source: the field's line, plus the line inside a block of text."""
    text = prose.text
    idx = text.find(needle) if needle else -1
    inner = text.count("\n", 0, idx) if idx >= 0 else block_line
    line = prose.origin.line + inner
    col = prose.origin.col + (idx - (text.rfind("\n", 0, idx) + 1) if idx >= 0 else 0)
    return Diagnostic(prose.origin.path, line, col, f"in the {prose.field}: {message}")


def _first_tag(html: str) -> str:
    html = html.strip()
    end = html.find(">")
    return html[: end + 1] if 0 < end < 40 else html[:40]


def _short(text: str) -> str:
    return text if len(text) <= 50 else text[:47] + "..."
