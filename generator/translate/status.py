"""Compare each locale's catalogs with the current sources, clause by clause: translated, stale
(the source text changed after it was translated, or the entry is marked fuzzy) or missing. The
findings are warnings (errors under --strict); an unreadable catalog or a translated link to an
id that does not exist is an error."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from ..errors import Diagnostic
from ..model import Corpus
from ..render.markdown import ANCHOR_LINK
from .catalog import EXCEPTIONS_CATALOG, SITE_CATALOG, Entry, LocaleSources
from .units import Unit

TRANSLATED, STALE, MISSING = "translated", "stale", "missing"


@dataclass(frozen=True, slots=True)
class UnitState:
    unit: Unit
    state: str  # TRANSLATED | STALE | MISSING
    values: Mapping[str, str]  # field name -> translated text, for the fields that are translated
    stale: tuple[tuple[str, Entry], ...] = ()  # (field name, entry) of each stale field


@dataclass(frozen=True, slots=True)
class LocaleStatus:
    code: str
    english_name: str  # "German": in messages
    native_name: str  # "Deutsch": in the language switcher
    direction: str  # "ltr" | "rtl"
    states: Mapping[tuple[str, str], UnitState]  # (kind, id) -> state
    ui: Mapping[str, str]  # the site catalog: English interface string -> translation
    digests: Mapping[str, str]  # catalog name -> sha256 of its file

    def counts(self, catalog: str | None = None) -> Counter:
        return Counter(s.state for s in self.states.values() if catalog is None or s.unit.catalog == catalog)

    def state(self, kind: str, unit_id: str) -> UnitState | None:
        return self.states.get((kind, unit_id))


def language_names(code: str) -> tuple[str, str, str]:
    """(English name, native name, text direction) from the Unicode CLDR, via Babel."""
    from babel import Locale

    locale = Locale.parse(code, sep="-")
    native = locale.get_display_name(locale) or code
    return locale.get_display_name("en") or code, native[:1].upper() + native[1:], locale.text_direction


def assess(source: LocaleSources, units: list[Unit], corpus: Corpus) -> tuple[LocaleStatus, list[Diagnostic]]:
    english, native, direction = language_names(source.code)
    problems: list[Diagnostic] = []
    by_catalog: dict[str, list[Unit]] = {}
    for unit in units:
        by_catalog.setdefault(unit.catalog, []).append(unit)
    known_ids = set(corpus.rules) | set(corpus.sections) | set(corpus.obligations) | set(corpus.exceptions_by_id)
    for name, found in source.catalogs.items():
        if name != SITE_CATALOG and name not in by_catalog:
            problems.append(Diagnostic(found.path, 0, 0, f"'{name}.po' translates nothing: there is no document "
                                       f"'{name}'; name a catalog after a document id, or exceptions.po or site.po",
                                       "warning"))
    states: dict[tuple[str, str], UnitState] = {}
    cmd = f"policy translations --update {source.code}"
    for name, group in by_catalog.items():
        catalog = source.catalogs.get(name)
        entries: Mapping[str, Entry] = catalog.entries if catalog is not None else {}
        used: set[str] = set()
        missing_units: list[Unit] = []
        for unit in group:
            values: dict[str, str] = {}
            stale: list[tuple[str, Entry]] = []
            missing = False
            for field in unit.fields:
                entry = entries.get(field.context)
                if entry is None or not entry.msgstr.strip():
                    missing = True
                    if entry is not None:
                        used.add(field.context)
                    continue
                used.add(field.context)
                if entry.fuzzy or entry.msgid != field.source:
                    stale.append((field.name, entry))
                    continue
                values[field.name] = entry.msgstr
                for target in ANCHOR_LINK.findall(entry.msgstr):
                    if target not in known_ids:
                        problems.append(Diagnostic(entry.path, entry.line, 1, f"the translation links to #{target}, "
                                                   f"which is no rule, section, safeguard or exception id; link to "
                                                   f"the same ids as the source text"))
            state = STALE if stale else MISSING if missing else TRANSLATED
            states[(unit.kind, unit.id)] = UnitState(unit, state, MappingProxyType(values), tuple(stale))
            if catalog is not None and state == STALE:
                for field_name, entry in stale:
                    origin = next(f.origin for f in unit.fields if f.name == field_name)
                    why = "is marked fuzzy" if entry.fuzzy and entry.msgid == next(
                        f.source for f in unit.fields if f.name == field_name) else \
                        f"was made from an earlier text: the {field_name} changed at {origin.path}:{origin.line}:{origin.col}"
                    problems.append(Diagnostic(entry.path, entry.line, 1, f"the {english} translation of {unit.label} "
                                               f"{why}; until msgid and msgstr are brought up to date (and the fuzzy "
                                               f"flag removed) the page shows the authoritative text ({cmd} marks "
                                               f"what changed)", "warning"))
            elif catalog is not None and state == MISSING:
                missing_units.append(unit)
        if catalog is not None and missing_units:
            problems += _missing(catalog.path, missing_units, english, cmd)
        if catalog is None and name not in source.unreadable:
            where = f"{source.folder}/{name}.po"
            problems.append(Diagnostic(where, 0, 0, f"{_what(name)} is not translated into {english} ({len(group)} "
                                       f"clauses); the {source.code} pages show the authoritative text; run {cmd} "
                                       f"to create {where}", "warning"))
        else:
            for context, entry in entries.items():
                if context not in used:  # (every field with an entry is in used)
                    problems.append(Diagnostic(entry.path, entry.line, 1, f"msgctxt \"{context}\" names nothing in "
                                               f"{_what(name)}: the clause was removed or renamed; delete the entry "
                                               f"or let {cmd} mark it obsolete", "warning"))
    site = source.catalogs.get(SITE_CATALOG)
    ui: dict[str, str] = {}
    if site is not None:
        problems += interface_problems(site.entries.values())
        ui = {k: e.msgstr for k, e in site.entries.items() if e.msgstr and not e.fuzzy and _same_placeholders(e)}
    digests = {name: c.digest for name, c in source.catalogs.items()}
    return (LocaleStatus(source.code, english, native, direction, MappingProxyType(states),
                         MappingProxyType(ui), MappingProxyType(digests)), problems)


#: Up to this many untranslated clauses of one catalog are reported one by one; beyond, in one
#: warning that names the first few (`policy translations` lists them all).
MISSING_ONE_BY_ONE = 5


def _missing(path: str, units: list[Unit], english: str, cmd: str) -> list[Diagnostic]:
    def where(unit: Unit) -> str:
        return f"{unit.label} ({unit.origin.path}:{unit.origin.line}:{unit.origin.col})"

    tail = f"the page shows the authoritative text until they are translated ({cmd} writes the entries to fill in)"
    if len(units) <= MISSING_ONE_BY_ONE:
        return [Diagnostic(path, 0, 0, f"{where(u)} has no {english} translation; " + tail.replace("they are", "it is"),
                           "warning") for u in units]
    named = ", ".join(where(u) for u in units[:3])
    return [Diagnostic(path, 0, 0, f"{len(units)} clauses have no {english} translation: {named} and "
                                   f"{len(units) - 3} more (policy translations lists them); {tail}", "warning")]


PLACEHOLDER = re.compile(r"%\((\w+)\)s")
STRAY_PERCENT = re.compile(r"%(?!%|\(\w+\)s)")


def _same_placeholders(entry: Entry) -> bool:
    bare = PLACEHOLDER.sub("", entry.msgstr).replace("%%", "")
    return sorted(PLACEHOLDER.findall(entry.msgstr)) == sorted(PLACEHOLDER.findall(entry.msgid)) and "%" not in bare


def interface_problems(entries) -> list[Diagnostic]:
    """site.po: each entry translates an interface string the pages show, and keeps its
    placeholders (%(date)s ...) exactly; a literal percent sign is written %%."""
    from ..render.i18n import interface_strings

    known = set(interface_strings())
    problems = []
    for entry in entries:
        if entry.msgid not in known:
            problems.append(Diagnostic(entry.path, entry.line, 1, f"msgid {entry.msgid!r} is not interface text of "
                                       f"the pages (it may have been reworded in this version of the tool); "
                                       f"policy translations --update lists the current strings", "warning"))
        elif entry.msgstr and not _same_placeholders(entry):
            want = ", ".join(f"%({n})s" for n in sorted(set(PLACEHOLDER.findall(entry.msgid)))) or "none"
            problems.append(Diagnostic(entry.path, entry.line, 1, f"the translation must keep the placeholders "
                                       f"of the text it translates ({want}), each written exactly so, and write "
                                       f"a percent sign as %%"))
    return problems


def _what(name: str) -> str:
    return "the exceptions page" if name == EXCEPTIONS_CATALOG else f"document '{name}'"
