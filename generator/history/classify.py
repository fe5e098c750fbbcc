"""Stricter, looser or editorial: what each change of a semantic diff does to the people the
policy governs, said for every entry so that a reviewer reads the looser changes first.

Stricter: the policy forbids or requires more, or relaxes less (a rule added or back in force, a
waivable rule made non-waivable, an obligation added, a rule in force sooner or retired later;
an exception retired, narrowed, or asking for more attestations). Looser: the reverse (an active
exception added, a rule it permits or a purpose added, its model cap raised, its eligibility
relaxed; a rule removed, retired or made waivable). Editorial: nothing a decision depends on
changed (wording, titles, summaries, moves, renames, version labels, review dates). An entry
whose fields go both ways is "mixed".

Each field that has a direction carries it ("direction": "stricter" | "looser"); each entry
carries its "class"; the diff carries "classes", the count of entries in each class.
"""

from __future__ import annotations

from typing import Any

from ..model import Corpus

STRICTER, LOOSER, EDITORIAL, MIXED = "stricter", "looser", "editorial", "mixed"
ORDER = (LOOSER, MIXED, STRICTER, EDITORIAL)  # how a reviewer should read them


_ALWAYS, _NEVER = "0000-00-00", "9999-99-99"  # ISO dates compare as text

# For a dated field: is the change stricter? No `effective` means "in force from always"; no
# `retired` or `expires` means "never".
_DATED: dict[str, dict[str, Any]] = {
    "rule": {"effective": lambda o, n: (n or _ALWAYS) < (o or _ALWAYS),  # in force sooner
             "retired": lambda o, n: (n or _NEVER) > (o or _NEVER)},     # stops later
    "exception": {"effective": lambda o, n: n > o,                       # grants later
                  "expires": lambda o, n: (n or _NEVER) < (o or _NEVER)},  # stops granting sooner
}


def _field_directions(kind: str, fields: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for name, value in fields.items():
        if kind in _DATED and name in _DATED[kind] and "from" in value and "direction" not in value:
            value["direction"] = STRICTER if _DATED[kind][name](value["from"], value["to"]) else LOOSER
        if kind == "exception" and name == "permits":
            grew = bool(value.get("added")) or any(c["added"] for c in value.get("purposes", {}).values())
            shrank = bool(value.get("removed")) or any(c["removed"] for c in value.get("purposes", {}).values())
            if grew:
                found.add(LOOSER)
            if shrank:
                found.add(STRICTER)
            if grew != shrank:
                value["direction"] = LOOSER if grew else STRICTER
            continue
        if kind == "exception" and name == "status" and "active" not in (value["from"], value["to"]):
            value.pop("direction", None)  # draft <-> retired: it granted nothing either way
        if kind == "model" and name == "asl":
            value["direction"] = STRICTER if value["to"] > value["from"] else LOOSER
        if "direction" in value:
            found.add(value["direction"])
    return found


def _entry_class(kind: str, entry: dict[str, Any], granting: set[str]) -> str:
    change = entry["change"]
    if kind == "rule":
        if change in ("added", "unretired"):
            return STRICTER
        if change in ("removed", "retired"):
            directions = _field_directions(kind, entry.get("fields", {}))
            return LOOSER if directions <= {LOOSER} else MIXED
    if kind == "exception":
        if change == "added":
            return LOOSER if entry.get("status") == "active" else EDITORIAL
        if change == "removed":
            return STRICTER if entry.get("status") == "active" else EDITORIAL
    if kind in ("document", "section") or change in ("added", "removed", "moved", "renamed"):
        return EDITORIAL  # documents and sections carry no decision; their rules say what changed
    directions = _field_directions(kind, entry.get("fields", {}))
    if kind == "exception" and entry["id"] not in granting:
        return EDITORIAL  # a draft before and after (or retired): it grants nothing
    if len(directions) > 1:
        return MIXED
    return next(iter(directions)) if directions else EDITORIAL


def classify(diff: dict[str, Any], old: Corpus, new: Corpus) -> dict[str, Any]:
    """Add "class" to every entry, "direction" to every field that has one, and "classes"."""
    # Exceptions that grant something before or after: only exception entries ask, so it is not
    # made for a diff without any (a document page's, of which the changelog makes thousands)
    granting = {e.id for c in (old, new) for e in c.exceptions if e.status == "active"} if diff["exceptions"] else set()
    counts = {name: 0 for name in ORDER}
    for kind, key in (("document", "documents"), ("section", "sections"), ("rule", "rules"),
                      ("exception", "exceptions"), ("model", "models")):
        for entry in diff[key]:
            entry["class"] = _entry_class(kind, entry, granting)
            counts[entry["class"]] += 1
    diff["classes"] = counts
    return diff
