"""Markdown rendering is safe even for text that validation would refuse (defence in depth)."""

from __future__ import annotations

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
