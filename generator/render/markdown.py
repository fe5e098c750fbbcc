"""Markdown prose to HTML with markdown-it-py: raw HTML off, unsafe links dropped, '#id' links
pointed at the page that holds the id."""

from __future__ import annotations

import re
from typing import Callable, Mapping

from markdown_it import MarkdownIt

Resolver = Callable[[str], str]  # '#id' fragment -> href (page-relative)

ANCHOR_LINK = re.compile(r"\]\(#([a-z0-9][a-z0-9.\-]*)\)")


def _make() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    def link_open(self, tokens, idx, options, env):
        token = tokens[idx]
        href = token.attrGet("href") or ""
        resolve: Resolver | None = env.get("resolve") if env else None
        if href.startswith("#") and resolve is not None:
            token.attrSet("href", resolve(href[1:]))
        elif href.startswith(("http://", "https://")):
            token.attrSet("rel", "noopener noreferrer")
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MD = _make()


# Plain prose: one paragraph of lines that each start with a letter and hold only letters,
# digits, spaces and punctuation that is never markup (no * _ ` [ ] < > & # | ! \\ ~ + =, no
# line that could start a list, a quote or a heading, no hard break: no space after a line's last
# letter or digit). markdown-it renders it as the escaped text in <p>; it is most of a policy's
# prose, so it skips the parser (1.5 s of CPU at 5,000 documents). A line is matched in one run
# of its characters, back to its last letter or digit (its trailing punctuation), and "_" is
# looked for apart: 4 times faster than a pattern of words and separators, which the regular
# expression engine matched a group at a time. tests/test_markdown.py checks that both accept
# the same texts, and that the shortcut gives markdown-it's bytes.
_LINE = r"[^\W\d_](?:[\w ,.;:'\"()?/%-]*[^\W_])?[,.;:'\"()?/%-]*+"
_PLAIN = re.compile(_LINE + r"(?:\n" + _LINE + r")*+\n?")


def is_plain(text: str) -> bool:
    """Whether markdown-it would render ``text`` as the escaped text in one <p>."""
    return "_" not in text and _PLAIN.fullmatch(text) is not None


def to_html(text: str, resolve: Resolver | None = None, *, shift_headings: int = 0) -> str:
    """Render one prose field. ``resolve`` turns an id into the href of its page and anchor."""
    if not text:
        return ""
    if is_plain(text):
        return "<p>" + text.rstrip("\n").replace('"', "&quot;") + "</p>\n"
    env = {"resolve": resolve}
    tokens = _MD.parse(text, env)
    if shift_headings:
        for tok in tokens:
            if tok.type in ("heading_open", "heading_close"):
                level = min(6, int(tok.tag[1]) + shift_headings)
                tok.tag = f"h{level}"
    return _MD.renderer.render(tokens, _MD.options, env)


def rewrite_anchor_links(text: str, resolve: Mapping[str, str] | Callable[[str], str]) -> str:
    """For Markdown output: '[x](#id)' -> '[x](other.md#id)' when the id is on another page."""
    fn = resolve if callable(resolve) else (lambda i: resolve.get(i, "#" + i))
    return ANCHOR_LINK.sub(lambda m: f"]({fn(m.group(1))})", text)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>#|!])")


def escape_inline(text: str) -> str:
    """Plain text (a title) made safe to place in Markdown: nothing in it becomes markup."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")
