"""Escaping for the XML the build writes by hand (sitemap.xml, feed.xml).

xml.sax.saxutils.escape did this before, but importing it imports urllib.request and
http.client too (12 ms of every build's start); and it leaves '"' alone, which an attribute
value in double quotes needs escaped."""

from __future__ import annotations


def text(value: str) -> str:
    """``value`` as XML character data: '&', '<' and '>' escaped."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attr(value: str) -> str:
    """``value`` inside a double-quoted XML attribute: '"' escaped too."""
    return text(value).replace('"', "&quot;")
