"""`policy impact`: what a change of the sources would do to real traffic, before it merges.

The inputs recorded in decision logs (JSON lines from DecisionLog, rotated and gzip files too)
are decided again by the bundle of the base sources and by the bundle of the changed ones (both
built in memory, with the same library services use), and every decision that would change is
reported: allow -> deny (tightening) and deny -> allow (loosening), grouped by rule (the use),
customer type, reason and exception, with counts, first and last seen, and a few decision ids.

A request is decided as of the day it was logged when it carries no `at` of its own (a service
decides "today"). An event whose input was masked (`erased` paths under /input) cannot be
replayed faithfully: it is counted, not guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .report import NotALog, open_log
from .runtime.decide import Bundle, Decision

EXAMPLES = 3  # decision ids kept per group


@dataclass
class _Group:
    count: int = 0
    first: str = ""
    last: str = ""
    examples: list[str] = field(default_factory=list)


def _why(decision: Decision) -> tuple[str, str]:
    """(reason code, exception) that explains a decision, for grouping."""
    for reason in decision.reasons:
        code = reason.get("code", "?")
        if decision.allowed or code != "allowed":
            return str(code), str(reason.get("exception") or decision.exception or "")
    return ("allowed" if decision.allowed else "?"), decision.exception or ""


def replay(paths: Iterable[Path], base: Bundle, head: Bundle) -> dict[str, Any]:
    groups: dict[tuple[str, str, str, str, str], _Group] = {}
    replayed = masked = malformed = 0
    for path in paths:
        events_here = 0
        with open_log(path) as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    event = orjson.loads(line)
                except orjson.JSONDecodeError:
                    malformed += 1
                    continue
                request = event.get("input") if isinstance(event, dict) else None
                stamp = event.get("timestamp") if isinstance(event, dict) else None
                if not isinstance(request, dict) or not isinstance(stamp, str) or len(stamp) < 10:
                    malformed += 1
                    continue
                events_here += 1
                erased = event.get("erased") or []
                if any(isinstance(p, str) and p.startswith("/input/") for p in erased):
                    masked += 1
                    continue
                if "at" not in request:
                    request = dict(request, at=stamp[:10])
                before, after = base.decide(request), head.decide(request)
                replayed += 1
                if before.allowed == after.allowed:
                    continue
                direction = "deny -> allow" if after.allowed else "allow -> deny"
                code, exception = _why(after)
                customer = request.get("customer")
                ctype = customer.get("type") if isinstance(customer, dict) else None
                key = (direction, str(request.get("use")), str(ctype) if ctype is not None else "(none)", code, exception)
                group = groups.setdefault(key, _Group())
                group.count += 1
                group.first = min(group.first or stamp, stamp)
                group.last = max(group.last, stamp)
                if len(group.examples) < EXAMPLES and isinstance(event.get("decision_id"), str):
                    group.examples.append(event["decision_id"])
        if not events_here:
            raise NotALog(f"{path}: no decision event in it (its lines are not the JSON events a "
                          f"DecisionLog writes); pass the decision log files")
    changes = [{"direction": k[0], "rule": k[1], "customer_type": k[2], "reason": k[3], "exception": k[4],
                "count": g.count, "first": g.first, "last": g.last, "examples": g.examples}
               for k, g in sorted(groups.items(), key=lambda kv: (kv[0][0] != "deny -> allow", -kv[1].count, kv[0]))]
    return {"format": 1, "replayed": replayed, "not_replayed_masked": masked, "skipped_lines": malformed,
            "loosening": sum(c["count"] for c in changes if c["direction"] == "deny -> allow"),
            "tightening": sum(c["count"] for c in changes if c["direction"] == "allow -> deny"),
            "changes": changes}


def to_markdown(result: dict[str, Any], base: str, head: str) -> str:
    lines = [f"### Impact of {head} against {base} on logged traffic", "",
             f"**{result['loosening']:,} decisions would become allowed, {result['tightening']:,} would become "
             f"denied**, of {result['replayed']:,} replayed."]
    if result["not_replayed_masked"]:
        lines.append(f"{result['not_replayed_masked']:,} logged decisions could not be replayed: their input was "
                     f"masked in the log.")
    if result["skipped_lines"]:
        lines.append(f"{result['skipped_lines']:,} lines were not decision events and were skipped.")
    if result["changes"]:
        lines += ["", "| change | rule | customer type | reason | exception | decisions | first seen | last seen | e.g. |",
                  "| --- | --- | --- | --- | --- | ---: | --- | --- | --- |"]
        for c in result["changes"]:
            cells = [c["direction"], f"`{c['rule']}`", c["customer_type"], c["reason"],
                     f"`{c['exception']}`" if c["exception"] else "", f"{c['count']:,}", c["first"], c["last"],
                     ", ".join(f"`{e}`" for e in c["examples"])]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    else:
        lines += ["", "No logged decision would change."]
    return "\n".join(lines) + "\n"
