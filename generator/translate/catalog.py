"""Read translations: gettext PO files under ``translations/<locale>/``, one per document
(``<document-id>.po``), one for the exceptions page (``exceptions.po``) and, optionally, one for
the site's interface strings (``site.po``).

Each entry names the clause it translates in ``msgctxt`` (``rule:<id>:text``) and holds the source
text it was made from in ``msgid``: when the source changes, the msgid no longer matches and the
translation is stale, clause by clause. A ``fuzzy`` flag (set by translators' tools and by
``policy translations --update``) also marks it stale."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import polib

from ..errors import Diagnostic

TRANSLATIONS_DIR = "translations"
SITE_CATALOG = "site"
EXCEPTIONS_CATALOG = "exceptions"
MAX_CATALOG_BYTES = 8 * 1024 * 1024

# BCP 47 tags as sites use them: language, optional script, optional region (de, pt-BR, zh-Hant, sr-Latn-RS)
LOCALE_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?")


@dataclass(frozen=True, slots=True)
class Entry:
    context: str
    msgid: str
    msgstr: str
    fuzzy: bool
    path: str  # root-relative path of the PO file
    line: int  # 1-based line where the entry starts


@dataclass(frozen=True, slots=True)
class Catalog:
    """One PO file: its entries by context (document and exceptions catalogs) or by msgid
    (the site catalog, whose entries have no context)."""

    name: str  # the file name without .po: a document id, "exceptions" or "site"
    path: str
    entries: Mapping[str, Entry]
    digest: str  # sha256 of the file's bytes: part of the fingerprint of every page using it


@dataclass(frozen=True, slots=True)
class LocaleSources:
    code: str  # BCP 47 tag, as the folder is named
    folder: str  # root-relative
    catalogs: Mapping[str, Catalog]
    unreadable: frozenset[str] = frozenset()  # catalogs that exist but could not be read (an error says why)


def locale_error(code: str, authoritative: str) -> str | None:
    """Why a folder name cannot be a locale, or None when it can."""
    from babel import Locale, UnknownLocaleError

    if not LOCALE_TAG.fullmatch(code):
        return (f"'{code}' is not a language tag; name each folder under translations/ after its locale, "
                f"such as de, fr, pt-BR, zh-Hant or ar")
    try:
        Locale.parse(code, sep="-")
    except (UnknownLocaleError, ValueError):
        return f"'{code}' is not a language known to the Unicode CLDR; use a tag such as de, fr, pt-BR or ar"
    if code == authoritative or code.split("-")[0] == authoritative and "-" not in authoritative and "-" not in code:
        return (f"'{code}' is the authoritative language (language = \"{authoritative}\" in [tool.policy]); "
                f"its text is the sources themselves, so it has no translations folder")
    return None


_STRING = r'"(?:[^"\\]|\\.)*"'
_LINE = re.compile(rf'\s*(?:#.*|(?:#~\s*)?(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+{_STRING}|(?:#~\s*)?{_STRING})?\s*')
_KEYWORD = re.compile(r"\s*(?:#~\s*)?(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\b")


def _syntax_problem(path: str, text: str) -> Diagnostic | None:
    """The first line that is not PO syntax (polib accepts some, such as an unclosed quote, and
    reads them as something else): a comment, a keyword and a quoted text, or a quoted text
    continuing the one above."""
    for number, line in enumerate(text.split("\n"), 1):
        if _LINE.fullmatch(line):
            continue
        keyword = _KEYWORD.match(line)
        if keyword is None:
            what = "this line is neither a comment (#), a keyword (msgctxt, msgid, msgstr) nor a quoted text"
        elif line.count('"') < 2:
            what = f"the text after {keyword.group(1)} is not closed with a double quote"
        else:
            what = f"the text after {keyword.group(1)} must be one quoted string; write a double quote inside it as \\\""
        return Diagnostic(path, number, 1, f"{what}; each entry is written as msgctxt \"...\", msgid \"...\" and "
                                           f"msgstr \"...\", a long text continuing on lines of its own \"...\"")
    return None


def _repeated(path: str, po, by_msgid: bool) -> Diagnostic | None:
    """The first entry (not obsolete) for a clause an earlier entry translates, named by its line
    and the earlier one's. A clause is its msgctxt (the site's catalog: its msgid), so two
    entries of one msgctxt are refused even with different msgids (polib's check_for_duplicates
    refuses only the same msgctxt and msgid, and reading kept the last one silently)."""
    first: dict[object, int] = {}
    for item in po:
        if item.obsolete:  # (kept by translators' tools for reference; never read)
            continue
        key: object = item.msgctxt if item.msgctxt and not by_msgid else (item.msgctxt, item.msgid)
        if key in first:
            what = f'msgctxt "{item.msgctxt}"' if item.msgctxt else f'msgid "{item.msgid}"'
            return Diagnostic(path, item.linenum or 0, 1, f"{what} is translated twice (first at line {first[key]}); "
                                                          f"each clause may be translated once: remove the repeated entry")
        first[key] = item.linenum or 0
    return None


# Catalogs read, by path, name and the sha256 of their bytes: `policy translations --update` reads
# a locale's catalogs to merge them and then checks what it wrote; a catalog it left as it was is
# not parsed again (polib's parser is pure Python: 1.5 ms a catalog of ten rules). Bounded; the
# oldest half goes when it is full.
_READ: dict[tuple[str, str, str], tuple[Catalog | None, tuple[Diagnostic, ...]]] = {}
_READ_MAX = 20_000


def read_catalog(path: str, data: bytes, name: str) -> tuple[Catalog | None, list[Diagnostic]]:
    """Parse one PO file. Problems come back as diagnostics naming its line."""
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    known = _READ.get((path, name, digest))
    if known is not None:
        return known[0], list(known[1])
    _, catalog, problems = _parse_and_remember(path, data, name, digest)
    return catalog, problems


def parse_catalog(path: str, data: bytes, name: str) -> tuple[polib.POFile | None, Catalog | None, list[Diagnostic]]:
    """read_catalog's work, also giving polib's object of the file (None when it cannot be read);
    what it finds is remembered for read_catalog."""
    import hashlib

    return _parse_and_remember(path, data, name, hashlib.sha256(data).hexdigest())


def _parse_and_remember(path: str, data: bytes, name: str,
                        digest: str) -> tuple[polib.POFile | None, Catalog | None, list[Diagnostic]]:
    po, catalog, problems = _parse(path, data, name, digest)
    if len(_READ) >= _READ_MAX:
        for old in list(_READ)[: _READ_MAX // 2]:
            del _READ[old]
    _READ[(path, name, digest)] = (catalog, tuple(problems))
    return po, catalog, problems


def _parse(path: str, data: bytes, name: str,
           digest: str) -> tuple[polib.POFile | None, Catalog | None, list[Diagnostic]]:
    problems: list[Diagnostic] = []
    if len(data) > MAX_CATALOG_BYTES:
        return None, None, [Diagnostic(path, 0, 0, f"this file is {len(data):,} bytes; a translation catalog may hold "
                                             f"at most {MAX_CATALOG_BYTES:,}: split the document it translates")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, None, [Diagnostic(path, line, 1, "this file is not UTF-8 text; save it as UTF-8 "
                                                "(Content-Type: text/plain; charset=UTF-8)")]
    if "\0" in text:
        return None, None, [Diagnostic(path, text[: text.index("\0")].count("\n") + 1, 1,
                                 "this file holds a NUL character; it is not a PO text file")]
    bad = _syntax_problem(path, text)
    if bad is not None:
        return None, None, [bad]
    try:
        # (polib's own check_for_duplicates compares each entry with every entry before it: 13 s
        # for the exceptions catalog of 2,000 exceptions; _repeated does it with a set)
        po = polib.pofile(text, encoding="utf-8")
    except (OSError, ValueError) as exc:
        message = str(exc)
        match = re.search(r"line (\d+)", message)
        line = int(match.group(1)) if match else 0
        if "duplicate" in message.lower() or "already" in message.lower():
            advice = "each clause may be translated once: remove the repeated entry"
        else:
            advice = ("a PO file holds entries of msgctxt, msgid and msgstr lines, each text in double quotes; "
                      "check the quotes and keywords on and just before that line")
        return None, None, [Diagnostic(path, line, 1 if line else 0, f"this PO file cannot be read ({message}); {advice}")]
    repeated = _repeated(path, po, by_msgid=name == SITE_CATALOG)
    if repeated is not None:
        return None, None, [repeated]
    entries: dict[str, Entry] = {}
    for item in po:
        if item.obsolete:
            continue
        line = item.linenum or 0
        if item.msgid_plural:
            problems.append(Diagnostic(path, line, 1, "plural entries (msgid_plural) are not used by policy "
                                                      "translations; translate each clause with msgid and msgstr"))
            continue
        if name == SITE_CATALOG:
            key = item.msgid
        elif not item.msgctxt:
            problems.append(Diagnostic(path, line, 1, "this entry has no msgctxt; each entry names the clause it "
                                                      "translates, such as msgctxt \"rule:<rule-id>:text\" "
                                                      "(policy translations --update writes them)"))
            continue
        else:
            key = item.msgctxt
        entries[key] = Entry(key, item.msgid, item.msgstr, "fuzzy" in item.flags, path, line)
    return po, Catalog(name, path, MappingProxyType(entries), digest), problems


def read_locales(root: Path, authoritative: str) -> tuple[list[LocaleSources], list[Diagnostic]]:
    """Every locale folder under ``translations/`` and its catalogs, sorted by tag."""
    base = Path(root) / TRANSLATIONS_DIR
    if not base.is_dir():
        return [], []
    found: dict[str, dict[str, tuple[str, bytes]]] = {}
    problems: list[Diagnostic] = []
    for folder in sorted(base.iterdir(), key=lambda p: p.name):
        rel = f"{TRANSLATIONS_DIR}/{folder.name}"
        if folder.name.startswith("."):
            continue
        if not folder.is_dir():
            problems.append(Diagnostic(rel, 0, 0, "translations/ holds one folder per locale (translations/de/"
                                                  "usage-policy.po); move this file into one", "warning"))
            continue
        files: dict[str, tuple[str, bytes]] = {}
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if item.name.startswith(".") or item.suffix in (".mo", ".pot") or item.name.endswith("~"):
                continue
            if item.suffix != ".po" or not item.is_file():
                problems.append(Diagnostic(f"{rel}/{item.name}", 0, 0, "a locale folder holds PO files named after "
                                           "what they translate (<document-id>.po, exceptions.po, site.po); "
                                           "this is not one and is ignored", "warning"))
                continue
            try:
                files[item.stem] = (f"{rel}/{item.name}", item.read_bytes())
            except OSError as exc:
                problems.append(Diagnostic(f"{rel}/{item.name}", 0, 0, f"cannot read this file: {exc.strerror}"))
        found[folder.name] = files
    locales, more = locales_from_files(found, authoritative)
    return locales, problems + more


def locales_from_files(found: Mapping[str, Mapping[str, tuple[str, bytes]]],
                       authoritative: str) -> tuple[list[LocaleSources], list[Diagnostic]]:
    """Parse catalogs given as {locale: {name: (path, bytes)}} (from the work tree or from git)."""
    problems: list[Diagnostic] = []
    locales = []
    for code in sorted(found):
        rel = f"{TRANSLATIONS_DIR}/{code}"
        why = locale_error(code, authoritative)
        if why is not None:
            problems.append(Diagnostic(rel + "/", 0, 0, why))
            continue
        catalogs: dict[str, Catalog] = {}
        unreadable = set()
        for name in sorted(found[code]):
            path, data = found[code][name]
            catalog, more = read_catalog(path, data, name)
            problems += more
            if catalog is not None:
                catalogs[name] = catalog
            else:
                unreadable.add(name)
        locales.append(LocaleSources(code, rel, MappingProxyType(catalogs), frozenset(unreadable)))
    return locales, problems
