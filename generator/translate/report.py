"""`policy translations`: each locale's status as text (for people) and JSON (for CI)."""

from __future__ import annotations

from collections import Counter

from . import Translations
from ..render.i18n import missing_interface_strings
from .status import MISSING, STALE, TRANSLATED, LocaleStatus


LIST_LIMIT = 20  # clauses listed per file and kind in the text report


def _by_catalog(status: LocaleStatus) -> dict[str, list]:
    """The locale's clause states grouped by catalog, in one pass (a site of 1,000 documents has
    1,000 catalogs and 70,000 clauses)."""
    groups: dict[str, list] = {}
    for state in status.states.values():
        groups.setdefault(state.unit.catalog, []).append(state)
    return dict(sorted(groups.items()))


def status_json(found: Translations) -> dict:
    locales = []
    for status in found.locales:
        counts = status.counts()
        files = []
        for name, states in _by_catalog(status).items():
            c = Counter(s.state for s in states)
            files.append({"catalog": f"translations/{status.code}/{name}.po", "present": name in status.digests,
                          "translated": c[TRANSLATED], "stale": c[STALE], "missing": c[MISSING],
                          "stale_clauses": sorted(f"{s.unit.kind}:{s.unit.id}" for s in states if s.state == STALE),
                          "missing_clauses": [f"{s.unit.kind}:{s.unit.id}" for s in states if s.state == MISSING]})
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
