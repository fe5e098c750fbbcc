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
from ..model import Corpus, Document, Exception_, Origin

SAFE_SCHEMES = ("http", "https", "mailto")


@dataclass(frozen=True, slots=True)
class Prose:
    """A Markdown field: its text and where its value starts in the source."""

    text: str
    origin: Origin
    field: str


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True})
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # see every link, even those the renderer drops
    return md


_MD = _parser()


def prose_of(item: Document | Exception_) -> Iterable[Prose]:
    """The Markdown fields of one document or exception, located."""
    if isinstance(item, Exception_):
        if item.summary:
            yield Prose(item.summary, item.positions.get("summary", item.origin), "summary")
        return
    if item.summary:
        yield Prose(item.summary, item.positions.get("summary", item.origin), "summary")
    for ob in item.obligations:
        if ob.text:
            yield Prose(ob.text, ob.origin, f"obligation '{ob.id}'")
    for section in item.walk_sections():
        if section.intro:
            yield Prose(section.intro, section.origin, f"intro of section '{section.id}'")
        for rule in section.rules:
            yield Prose(rule.text, rule.positions.get("text", rule.origin), f"text of rule '{rule.id}'")


@dataclass(frozen=True, slots=True)
class AnchorRef:
    """A '#id' link found in prose; whether the id exists is decided once all files are read."""

    target: str
    diagnostic: Diagnostic  # located, with the message's first part; completed by resolve_anchors


def check_prose(item: Document | Exception_, memo: dict | None = None) -> tuple[list[Diagnostic], list[AnchorRef]]:
    """Unsafe links and raw HTML in one file's prose (depends on that file alone), and the
    '#id' links it makes, to be resolved against the whole corpus. ``memo``: what each prose
    field gave, by its text, place and name, for a caller checking many versions of the same
    files (the models at many commits): a field that did not change is not parsed again."""
    problems: list[Diagnostic] = []
    refs: list[AnchorRef] = []
    for prose in prose_of(item):
        if "[" not in prose.text and "<" not in prose.text:
            continue  # no link or tag can be written without one of these
        if memo is None:
            _check_text(prose, problems, refs)
            continue
        key = (prose.text, prose.origin, prose.field)
        found = memo.get(key)
        if found is None:
            found = memo[key] = ([], [])
            _check_text(prose, found[0], found[1])
        problems += found[0]
        refs += found[1]
    return problems, refs


def resolve_anchors(refs: Iterable[AnchorRef], corpus: Corpus) -> list[Diagnostic]:
    """'#id' links whose id is no rule, section or obligation of the corpus."""
    anchors = corpus.rules.keys() | corpus.sections.keys() | corpus.obligations.keys()
    out = []
    for ref in refs:
        if ref.target in anchors:
            continue
        hint = difflib.get_close_matches(ref.target, sorted(anchors), n=1, cutoff=0.7)
        advice = f"did you mean '#{hint[0]}'? " if hint else ""
        d = ref.diagnostic
        out.append(Diagnostic(d.path, d.line, d.col, f"{d.message}the link '#{ref.target}' points to no rule "
                                                     f"or section; {advice}use the id of an existing rule or section"))
    return out


def _check_text(prose: Prose, problems: list[Diagnostic], refs: list[AnchorRef]) -> None:
    tokens = _MD.parse(prose.text)
    for block in tokens:
        line = block.map[0] if block.map else 0
        if block.type == "html_block":
            problems.append(_at(prose, line, block.content, _html_message(block.content)))
        for tok in block.children or ():
            if tok.type == "html_inline":
                problems.append(_at(prose, line, tok.content, _html_message(tok.content)))
            elif tok.type in ("link_open", "image"):
                href = str(tok.attrGet("href" if tok.type == "link_open" else "src") or "")
                problem, target = _link_problem(href)
                if problem:
                    problems.append(_at(prose, line, href, problem))
                elif target is not None:
                    refs.append(AnchorRef(target, _at(prose, line, href, "")))


def _html_message(html: str) -> str:
    return (f"HTML is not allowed in policy text ({_first_tag(html)}); "
            f"use Markdown instead: **bold**, *italic*, [a link](https://...)")


def _link_problem(href: str) -> tuple[str | None, str | None]:
    """(problem, None) for an unsafe link; (None, id) for a '#id' link; (None, None) otherwise."""
    stripped = href.strip()
    try:
        parts = urlsplit(stripped)
    except ValueError:
        return f"the link '{stripped}' is not a valid address; write a full https:// address or '#rule-id'", None
    scheme = parts.scheme.lower()
    if scheme and scheme not in SAFE_SCHEMES:
        return (f"link scheme '{scheme}:' is not allowed ('{_short(stripped)}'); links may use "
                f"http, https or mailto, or point inside the policy with '#rule-id'"), None
    if not scheme and not parts.netloc and not parts.path and stripped.startswith("#"):
        return None, parts.fragment
    return None, None


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
