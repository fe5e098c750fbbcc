"""Markdown rendering is safe even for text that validation would refuse (defence in depth)."""

from __future__ import annotations

import re

from generator.render.markdown import escape_inline, rewrite_anchor_links, to_html


def test_raw_html_is_escaped_and_unsafe_links_are_dropped():
    out = to_html("Hi <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n"
                  "[a](javascript:alert(3)) [b](data:text/html,x) <javascript:alert(4)>")
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out
    assert 'href="javascript' not in out and 'href="data' not in out


def test_anchor_links_point_at_the_page_that_holds_the_id():
    out = to_html("See [w](#weapons.design) and [x](https://example.com).",
                  resolve=lambda anchor: f"../usage-policy/#{anchor}")
    assert '<a href="../usage-policy/#weapons.design">w</a>' in out
    assert '<a href="https://example.com" rel="noopener noreferrer">x</a>' in out
    assert rewrite_anchor_links("[w](#weapons.design)", lambda a: f"usage-policy.md#{a}") == \
        "[w](usage-policy.md#weapons.design)"


def test_titles_placed_in_markdown_cannot_become_markup():
    assert escape_inline("<b>*x*</b> [y](z)") == r"\<b\>\*x\*\</b\> \[y\](z)"


def _parsed(text: str) -> str:
    """What markdown-it itself makes of a text (the parser, never the plain-prose shortcut)."""
    from generator.render import markdown

    return markdown._MD.renderer.render(markdown._MD.parse(text, {"resolve": None}), markdown._MD.options,
                                        {"resolve": None})


# The first form of the plain-prose test (one pattern of words and separators): is_plain must
# accept exactly what it accepted.
_PLAIN_AS_WORDS = re.compile(r"(?:[^\W\d_][^\W_]*(?:[ ,.;:'\"()?/%-]+[^\W_]+)*[,.;:'\"()?/%-]*\n)*"
                             r"[^\W\d_][^\W_]*(?:[ ,.;:'\"()?/%-]+[^\W_]+)*[,.;:'\"()?/%-]*\n?")


def test_plain_prose_skips_the_parser_with_the_same_bytes():
    """to_html renders plain prose without markdown-it (render/markdown.py is_plain): on 30,000
    random texts over letters, digits, spaces, newlines, punctuation and every markup character,
    and on every prose field of the example, it gives markdown-it's
    bytes; and the shortcut is taken often enough for the comparison to mean something."""
    import random

    from conftest import REPO
    from generator.render import markdown
    from generator.validate import check_root

    rng = random.Random(12)
    alphabet = list("aBzé1 \n,.;:'\"()?/%-_*#=+>&<[]!\\`|~\t") + ["  ", "\n\n", "1. ", "- ", "Ab", "ab"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(20_000)]
    prose = ["Ab", "word", "é", "x1", " ", " ", ", ", ". ", ";", ":", "'", '"', "(", ")", "?", "/", "%", "-", "\n", "  "]
    texts += ["Ab" + "".join(rng.choice(prose) for _ in range(rng.randint(1, 25))) for _ in range(10_000)]
    corpus = check_root(REPO).corpus
    for rule in corpus.rules.values():
        texts += [rule.title, rule.text]
    for doc in corpus.documents:
        texts += [doc.summary or "", doc.title]
    for exc in corpus.exceptions:
        texts += [exc.summary or "", exc.title]
    plain = 0
    for text in texts:
        if not text:
            continue
        plain += markdown.is_plain(text)
        assert markdown.is_plain(text) == bool(_PLAIN_AS_WORDS.fullmatch(text)), repr(text)
        assert to_html(text) == _parsed(text), repr(text)
    assert plain > 2_000
