"""Notice periods: a change that makes a rule stricter may not take effect sooner than
`notice_days` ([tool.policy]) after it is made, unless the rule says why (`notice_override`).

The change is the semantic diff between the sources at a revision (`policy check --against`)
and the working tree; "made" is today. Stricter is what classify.py calls stricter: a rule added
or back in force, made non-waivable, given another obligation, its effect made `prohibit`, or in
force sooner. A stricter change takes effect on the rule's `effective` date when that is still
to come, else at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import Diagnostic
from ..model import Corpus, Rule
from .diff import diff_corpora

_WHAT = {"waivable": "made non-waivable", "obligations": "given another obligation",
         "effect": "made a prohibition", "effective": "in force sooner"}


def _stricter_parts(entry: dict[str, Any]) -> list[str]:
    """What makes this rule entry stricter, in words (nothing when only its retirement moved)."""
    if entry["change"] == "added":
        return ["added"]
    if entry["change"] == "unretired":
        return ["back in force"]
    return [_WHAT[name] for name, value in entry.get("fields", {}).items()
            if value.get("direction") == "stricter" and name in _WHAT]


def notice_problems(previous: Corpus, current: Corpus, notice_days: int, today: dt.date,
                    against: str) -> list[Diagnostic]:
    if notice_days <= 0:
        return []
    earliest = today + dt.timedelta(days=notice_days)
    out: list[Diagnostic] = []
    for entry in diff_corpora(previous, current)["rules"]:
        if entry["class"] not in ("stricter", "mixed"):
            continue
        rule = current.rules.get(entry["id"])
        parts = _stricter_parts(entry)
        if rule is None or not parts or rule.notice_override:
            continue
        starts = max(today, rule.effective or today)
        if starts >= earliest:
            continue
        out.append(_problem(rule, entry, parts, starts, today, earliest, notice_days, against))
    return out


def _problem(rule: Rule, entry: dict[str, Any], parts: list[str], starts: dt.date, today: dt.date,
             earliest: dt.date, notice_days: int, against: str) -> Diagnostic:
    days = (starts - today).days
    if entry["change"] in ("added", "unretired") or "in force sooner" in parts:
        field = "effective" if rule.effective is not None else "id"
        fix = f"give the rule 'effective: {earliest.isoformat()}' or later"
    else:  # an existing rule changed in place: in force already, so the change applies at once
        field = next(name for name, value in entry["fields"].items() if value.get("direction") == "stricter")
        fix = (f"keep this rule as it was, retire it on {earliest.isoformat()} or later, and add the stricter "
               f"wording as a new rule with that 'effective' date ('replaced_by' links them)")
    where = rule.positions.get(field, rule.origin)
    return Diagnostic(where.path, where.line, where.col,
                      f"rule '{rule.id}' becomes stricter ({', '.join(parts)}) on {starts.isoformat()}, "
                      f"{days} day{'s' if days != 1 else ''} after this change (compared with {against}); the "
                      f"notice period is {notice_days} days ([tool.policy] notice_days): {fix}, or say why it "
                      f"cannot wait with 'notice_override: ...' on the rule")
