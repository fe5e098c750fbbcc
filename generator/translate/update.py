"""`policy translations --update LOCALE`: bring a locale's catalogs up to date with the sources,
as gettext's msgmerge does: new clauses get empty entries; an entry whose source text changed
gets the new msgid, keeps its translation for reference, is marked fuzzy (so it is not used) and
records the text it was made from (``#| msgid``), so a translator's tool shows what changed;
entries for clauses that no longer exist become obsolete (``#~``). Nothing else is touched."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import polib

from ..config import Settings
from ..errors import ValidationFailed, Diagnostic
from ..model import Corpus
from .catalog import SITE_CATALOG, TRANSLATIONS_DIR, locale_error, parse_catalog
from .units import Unit, all_units

WRAP = 78


def _header(code: str, settings: Settings) -> dict[str, str]:
    return {"Project-Id-Version": f"{settings.organization} policies", "Language": code,
            "MIME-Version": "1.0", "Content-Type": "text/plain; charset=UTF-8",
            "Content-Transfer-Encoding": "8bit", "X-Generator": "policy translations"}


def _existing(root: Path, code: str, name: str) -> polib.POFile | None:
    """The catalog as it is, parsed once: checked, then merged (the check after the update reads
    it from what parse_catalog remembered when it is left as it was)."""
    rel = f"{TRANSLATIONS_DIR}/{code}/{name}.po"
    path = Path(root) / rel
    if not path.is_file():
        return None
    po, catalog, problems = parse_catalog(rel, path.read_bytes(), name)
    errors = [d for d in problems if d.severity == "error" and "msgctxt" not in d.message]
    if po is None or catalog is None or errors:
        raise ValidationFailed(errors or problems)
    po.wrapwidth = WRAP
    return po


def _text(po: polib.POFile) -> str:
    text = str(po)
    return text if text.endswith("\n") else text + "\n"


def merged_catalog(old: polib.POFile | None, units: list[Unit], code: str, settings: Settings) -> str:
    po = polib.POFile(wrapwidth=WRAP)
    po.metadata = dict(old.metadata) if old is not None else {}
    po.metadata.update(_header(code, settings))
    if old is not None and old.header:
        po.header = old.header
    previous = {e.msgctxt: e for e in old if e.msgctxt and not e.obsolete} if old is not None else {}
    seen: set[str] = set()
    for unit in units:
        for field in unit.fields:
            seen.add(field.context)
            entry = previous.get(field.context)
            occurrence = [(field.origin.path, str(field.origin.line))] if field.origin.line else []
            comment = f"{unit.label[:1].upper()}{unit.label[1:]}: {field.name.split('.')[0]}"
            if entry is None:
                po.append(polib.POEntry(msgctxt=field.context, msgid=field.source, msgstr="",
                                        occurrences=occurrence, comment=comment))
                continue
            new = polib.POEntry(msgctxt=field.context, msgid=field.source, msgstr=entry.msgstr,
                                occurrences=occurrence, comment=comment, tcomment=entry.tcomment,
                                flags=list(entry.flags), previous_msgid=entry.previous_msgid)
            if entry.msgid != field.source:
                if entry.msgstr:
                    if "fuzzy" not in new.flags:
                        new.flags.append("fuzzy")
                    new.previous_msgid = entry.previous_msgid if "fuzzy" in entry.flags and entry.previous_msgid \
                        else entry.msgid
                else:
                    new.previous_msgid = None
            po.append(new)
    if old is not None:
        for entry in old:
            if entry.obsolete or (entry.msgctxt and entry.msgctxt not in seen):
                entry.obsolete = True
                entry.occurrences = []
                po.append(entry)
    return _text(po)


def site_catalog(old: polib.POFile | None, missing: list[str], code: str, settings: Settings) -> str:
    po = polib.POFile(wrapwidth=WRAP)
    po.metadata = dict(old.metadata) if old is not None else {}
    po.metadata.update(_header(code, settings))
    have = {}
    if old is not None:
        for entry in old:
            have[entry.msgid] = entry
    for msgid in sorted(set(missing) | set(have)):
        kept = have.get(msgid)
        po.append(kept if kept is not None else polib.POEntry(msgid=msgid, msgstr="",
                                                              comment="Interface text of the published pages"))
    return _text(po)


def update_locale(root: Path, corpus: Corpus, settings: Settings, code: str) -> list[str]:
    """Write the catalogs of ``code`` (creating translations/<code>/ when needed); returns the
    root-relative paths of the files written (those whose bytes changed)."""
    from ..render.i18n import missing_interface_strings

    why = locale_error(code, settings.language)
    if why is not None:
        raise ValidationFailed([Diagnostic(f"{TRANSLATIONS_DIR}/{code}/", 0, 0, why)])
    folder = Path(root) / TRANSLATIONS_DIR / code
    by_catalog: dict[str, list[Unit]] = {}
    for unit in all_units(corpus, settings):
        by_catalog.setdefault(unit.catalog, []).append(unit)
    outputs: dict[str, str] = {}
    for name, units in by_catalog.items():
        outputs[name] = merged_catalog(_existing(root, code, name), units, code, settings)
    old_site = _existing(root, code, SITE_CATALOG)
    missing = missing_interface_strings(code)
    if missing or old_site is not None:
        outputs[SITE_CATALOG] = site_catalog(old_site, missing, code, settings)
    written = []
    folder.mkdir(parents=True, exist_ok=True)
    for name in sorted(outputs):
        path = folder / f"{name}.po"
        data = outputs[name].encode("utf-8")
        if path.is_file() and path.read_bytes() == data:
            continue
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(f"{TRANSLATIONS_DIR}/{code}/{name}.po")
    return written
