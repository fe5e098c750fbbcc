"""`policy translations`: each locale's status as text (for people) and JSON (for CI)."""

from __future__ import annotations

from . import Translations
from ..render.i18n import missing_interface_strings
from .status import MISSING, STALE, TRANSLATED, LocaleStatus


LIST_LIMIT = 20  # clauses listed per file and kind in the text report


def _catalogs(status: LocaleStatus) -> list[str]:
    return sorted({s.unit.catalog for s in status.states.values()})


def status_json(found: Translations) -> dict:
    locales = []
    for status in found.locales:
        counts = status.counts()
        files = []
        for name in _catalogs(status):
            c = status.counts(name)
            files.append({"catalog": f"translations/{status.code}/{name}.po", "present": name in status.digests,
                          "translated": c[TRANSLATED], "stale": c[STALE], "missing": c[MISSING],
                          "stale_clauses": sorted(f"{s.unit.kind}:{s.unit.id}" for s in status.states.values()
                                                  if s.unit.catalog == name and s.state == STALE),
                          "missing_clauses": [f"{s.unit.kind}:{s.unit.id}" for s in status.states.values()
                                              if s.unit.catalog == name and s.state == MISSING]})
        total = sum(counts.values())
        locales.append({"locale": status.code, "language": status.english_name, "name": status.native_name,
                        "direction": status.direction, "clauses": total, "translated": counts[TRANSLATED],
                        "stale": counts[STALE], "missing": counts[MISSING],
                        "complete": counts[TRANSLATED] == total,
                        "interface_strings_untranslated": len(missing_interface_strings(status.code, status.ui)),
                        "files": files})
    return {"authoritative": found.authoritative, "locales": locales}


def status_text(found: Translations) -> str:
    if not found.locales:
        return (f"No translations: the pages are published in the authoritative language ({found.authoritative}) "
                f"only. Start one with: policy translations --update <locale>\n")
    data = status_json(found)
    lines = [f"Authoritative language: {found.authoritative}", ""]
    width = max(len(loc["locale"]) for loc in data["locales"])
    for loc in data["locales"]:
        state = "complete" if loc["complete"] else "incomplete"
        ui = loc["interface_strings_untranslated"]
        lines.append(f"{loc['locale']:<{width}}  {loc['language']} ({loc['name']}, {loc['direction']}): "
                     f"{loc['translated']} of {loc['clauses']} clauses translated, {loc['stale']} stale, "
                     f"{loc['missing']} missing: {state}"
                     + (f"; {ui} interface strings shown in {found.authoritative}" if ui else ""))
        for f in loc["files"]:
            if f["stale"] or f["missing"]:
                where = f["catalog"] if f["present"] else f"{f['catalog']} (not created yet)"
                lines.append(f"{'':<{width}}    {where}: {f['translated']} translated, {f['stale']} stale, "
                             f"{f['missing']} missing")
                for kind in ("stale", "missing"):
                    clauses = f[f"{kind}_clauses"]
                    for clause in clauses[:LIST_LIMIT]:
                        lines.append(f"{'':<{width}}      {kind}: {clause}")
                    if len(clauses) > LIST_LIMIT:
                        lines.append(f"{'':<{width}}      ... and {len(clauses) - LIST_LIMIT} more {kind} "
                                     f"(--format json lists them all)")
    return "\n".join(lines) + "\n"
