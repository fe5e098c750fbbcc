"""The interface text of the published pages (headings, labels, notes) in each locale.

Templates mark interface text with ``_()`` (Jinja2's i18n extension); the authoritative pages
render it as written. A locale's pages take each string from, in order: the site's own
``translations/<locale>/site.po``, the catalog shipped with this package
(``render/locales/<language>.po``), and otherwise the authoritative wording. Dates are written
the locale's way by Babel, from the Unicode CLDR data it ships (the same bytes everywhere)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from typing import Callable, Mapping

import jinja2
import polib

from ..resources import read_resource, resource


def N_(text: str) -> str:
    """Marks interface text written in Python (translated where it is shown)."""
    return text


#: Interface text composed in Python (views, banners) rather than in templates.
PYTHON_STRINGS = (
    N_("Retired on %(date)s"), N_("In force until %(date)s"), N_("Takes effect on %(date)s"),
    N_("Scheduled"), N_("this version takes effect on %(date)s."),
    N_(" Until then, the version of %(date)s applies."), N_("Read the version in force"),
    # marks.py: the note on a part shown in the authoritative language
    N_("Translation out of date:"),
    N_("this text changed after it was translated, so the authoritative text is shown, in %(language)s."),
    N_("Not yet translated:"), N_("the authoritative text is shown, in %(language)s."),
)

#: Templates whose text is shown on a locale's pages.
LOCALIZED_TEMPLATES = ("base.html", "document.html", "_document.html", "_rule.html", "exceptions.html",
                       "index.html", "document.md", "exceptions.md")


@functools.cache
def builtin_catalog(language: str) -> Mapping[str, str]:
    """The catalog shipped for a language ('de'), or {} when there is none."""
    folder = resource(__package__, "locales")
    name = f"{language}.po"
    if not (folder / name).is_file():
        return {}
    po = polib.pofile(read_resource(__package__, "locales", name).decode("utf-8"))
    return {e.msgid: e.msgstr for e in po if e.msgstr and not e.obsolete and "fuzzy" not in e.flags}


def shipped_languages() -> tuple[str, ...]:
    folder = resource(__package__, "locales")
    return tuple(sorted(p.name[:-3] for p in folder.iterdir() if p.name.endswith(".po")))


@functools.cache
def interface_strings() -> tuple[str, ...]:
    """Every interface string a locale's pages can show, in a stable order."""
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    found: dict[str, None] = {}
    for name in LOCALIZED_TEMPLATES:
        source = read_resource(__package__, "templates", name).decode("utf-8")
        for _line, _func, message in env.extract_translations(source):  # type: ignore[attr-defined]
            if isinstance(message, (tuple, list)):  # a call with values to fill in: (text, None, ...)
                message = message[0] if message else None
            if isinstance(message, str):
                found.setdefault(message)
    for text in PYTHON_STRINGS:
        found.setdefault(text)
    return tuple(found)


def _chain(code: str, site: Mapping[str, str]) -> tuple[Mapping[str, str], ...]:
    language = code.split("-")[0]
    chain = [site, builtin_catalog(code)]
    if language != code:
        chain.append(builtin_catalog(language))
    return tuple(chain)


def missing_interface_strings(code: str, site: Mapping[str, str] | None = None) -> list[str]:
    """Interface strings no catalog translates for ``code`` (shown in the authoritative language)."""
    chain = _chain(code, site or {})
    return [s for s in interface_strings() if not any(s in c for c in chain)]


def gettext_for(code: str | None, site: Mapping[str, str] | None = None) -> Callable[[str], str]:
    if code is None:
        return lambda text: text
    chain = _chain(code, site or {})

    def gettext(text: str) -> str:
        for catalog in chain:
            found = catalog.get(text)
            if found:
                return found
        return text
    return gettext


def date_formatter(code: str | None, english: Callable[[dt.date | None], str]) -> Callable[[dt.date | None], str]:
    """Long dates: the project's own English form for the authoritative pages, CLDR's long form
    for a locale ('15. September 2025', '15 سبتمبر 2025')."""
    if code is None:
        return english
    from babel.dates import format_date

    locale = code.replace("-", "_")

    @functools.lru_cache(maxsize=4096)
    def long_date(day: dt.date | None) -> str:
        return "" if day is None else format_date(day, format="long", locale=locale)
    return long_date


def interface_digest(code: str | None, site: Mapping[str, str] | None = None) -> str:
    """Changes when any interface text shown in ``code`` may change (a page fingerprint part):
    the site's own translations and the shipped catalogs it falls back to (the templates, which
    hold the English text, are in every fingerprint already)."""
    if code is None:
        return ""
    h = hashlib.sha256(code.encode())
    for key, value in sorted((site or {}).items()):
        h.update(key.encode() + b"\0" + value.encode() + b"\0")
    folder = resource(__package__, "locales")
    for name in dict.fromkeys((code, code.split("-")[0])):
        if (folder / f"{name}.po").is_file():
            h.update(read_resource(__package__, "locales", f"{name}.po"))
    return h.hexdigest()
