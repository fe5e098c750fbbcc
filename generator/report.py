"""`policy report`: decisions per exception and per rule from decision logs, for the periodic
review of each exception. Reads JSON lines written by the decision log (rotated files too);
lines that are not events (a line cut by a crash) are counted and skipped."""

from __future__ import annotations

import json
import csv
import gzip
import io
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from .errors import PolicyError, UsageError
from .runtime.events import parse_or_reason


class NotALog(PolicyError):
    """An input of `policy report` holds no decision event (exit 1)."""


def _counter():
    return {"allowed": 0, "denied": 0}


class Tally:
    """The report's counts, filled by either engine (this file line by line, reportsql.py from
    SQL rows) and turned into the one report shape by ``result``."""

    def __init__(self) -> None:
        self.rules: dict = defaultdict(lambda: {"allowed": 0, "denied": 0, "by_customer_type": defaultdict(_counter),
                                                "by_reason": defaultdict(int)})
        self.exceptions: dict = defaultdict(lambda: {"allowed": 0, "denied": 0,
                                                     "by_customer_type": defaultdict(_counter),
                                                     "denied_by_reason": defaultdict(int)})
        self.days: dict = defaultdict(_counter)

    def decision(self, rule: str, ctype: str, allowed: bool, n: int = 1) -> None:
        outcome = "allowed" if allowed else "denied"
        self.rules[rule][outcome] += n
        self.rules[rule]["by_customer_type"][ctype][outcome] += n

    def rule_reason(self, rule: str, code: str, n: int = 1) -> None:
        self.rules[rule]["by_reason"][code] += n

    def exception(self, exc_id: str, ctype: str, code: str, n: int = 1) -> None:
        granted = code == "exception"
        entry = self.exceptions[exc_id]
        entry["allowed" if granted else "denied"] += n
        entry["by_customer_type"][ctype]["allowed" if granted else "denied"] += n
        if not granted:
            entry["denied_by_reason"][code] += n

    def day(self, day: str, allowed: bool, n: int = 1) -> None:
        self.days[day]["allowed" if allowed else "denied"] += n

    def result(self, total: int, skipped_by_reason: dict[str, int], first: str | None, last: str | None,
               since: str | None, until: str | None) -> dict:
        skipped = dict(sorted(skipped_by_reason.items()))
        return {"format": 1, "decisions": total, "skipped_lines": sum(skipped.values()),
                "skipped_by_reason": skipped, "since": since, "until": until,
                "period": {"first": first, "last": last},
                "rules": _plain(self.rules), "exceptions": _plain(self.exceptions), "days": _plain(self.days)}


def open_log(path: Path) -> Any:
    """A log file, gzip-compressed or not (rotated logs are often compressed)."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def summarize(paths: Iterable[Path], since: str | None = None, until: str | None = None,
              service: str | None = None, exception: str | None = None) -> dict:
    """The report, line by line in Python (`policy report --engine python`); reportsql.py gives
    the same figures with DuckDB."""
    tally = _Reading(Tally(), since, until, service, exception)
    for path in paths:
        if Path(path).suffix == ".parquet":
            raise UsageError(f"{path}: Parquet logs are read by the DuckDB engine; "
                             f"drop --engine python (the default engine reads them)")
        try:
            with open_log(path) as fh:
                events_here = tally.read(fh)
        except (EOFError, OSError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
            if not is_gzip(path):
                raise
            raise NotALog(f"{path}: no decision event in it: it starts as gzip-compressed data but does not "
                          f"decompress (cut short or damaged)") from error
        if not events_here:
            raise NotALog(f"{path}: no decision event in it (its lines are not the JSON events a "
                          f"DecisionLog writes); pass the decision log files")
    return tally.tally.result(tally.total, tally.skipped, tally.first, tally.last, since, until)


class _Reading:
    """The line-by-line report's running state."""

    def __init__(self, tally: Tally, since: str | None, until: str | None, service: str | None,
                 exception: str | None) -> None:
        self.tally, self.since, self.until, self.service, self.exception = tally, since, until, service, exception
        self.total = 0
        self.first: str | None = None
        self.last: str | None = None
        self.skipped: dict[str, int] = defaultdict(int)

    def read(self, lines: Iterable[bytes]) -> int:
        """Count the lines' events; returns how many lines were events (filtered out or not)."""
        tally, since, until, service, exception = self.tally, self.since, self.until, self.service, self.exception
        events_here = 0
        for line in lines:
            if not line.strip():
                continue
            event, why = parse_or_reason(line)
            if event is None:
                self.skipped[why] += 1
                continue
            events_here += 1
            stamp = event.timestamp
            if (since is not None and stamp[:10] < since) or (until is not None and stamp[:10] > until) \
                    or (service is not None and event.service != service):
                continue
            self.total += 1
            self.first = stamp if self.first is None or stamp < self.first else self.first
            self.last = stamp if self.last is None or stamp > self.last else self.last
            tally.day(stamp[:10], event.allowed)
            ctype = event.customer_type if event.customer_type is not None else "(none)"
            rule = event.rule or "(unknown rule)"
            tally.decision(rule, ctype, event.allowed)
            for reason in event.reasons:
                given = reason.get("code")
                code = given if isinstance(given, str) else "?"
                tally.rule_reason(rule, code)
                exc_id = reason.get("exception")
                if isinstance(exc_id, str) and exc_id and (exception is None or exc_id == exception):
                    tally.exception(exc_id, ctype, code)
        return events_here


def is_gzip(path: Path | str) -> bool:
    """Whether a file is gzip-compressed, from its first bytes (a rotated log may lack .gz)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    return value


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=True)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: dict) -> str:
    period = report["period"]
    lines = ["# Decision report", "",
             f"{report['decisions']:,} decisions" + (f" from {period['first']} to {period['last']}" if period["first"] else "")
             + (f" (since {report['since']})" if report["since"] else "") + "."]
    if report["skipped_lines"]:
        n = report["skipped_lines"]
        why = ", ".join(f"{reason}: {count:,}" for reason, count in report["skipped_by_reason"].items())
        lines.append(f"{n:,} line{' was' if n == 1 else 's were'} not a decision event and skipped ({why}).")
    lines += ["", "## Exceptions", ""]
    if report["exceptions"]:
        lines += ["| exception | allowed | denied | by customer type (allowed / denied) | denied, by reason |",
                  "| --- | ---: | ---: | --- | --- |"]
        for exc_id, e in report["exceptions"].items():
            types = ", ".join(f"{t} {c['allowed']}/{c['denied']}" for t, c in e["by_customer_type"].items())
            reasons = ", ".join(f"{r} {n}" for r, n in e["denied_by_reason"].items()) or "none"
            lines.append(f"| `{_cell(exc_id)}` | {e['allowed']:,} | {e['denied']:,} | {_cell(types)} | {_cell(reasons)} |")
    else:
        lines.append("No decision involved an exception.")
    lines += ["", "## Rules", "", "| rule | allowed | denied | by customer type (allowed / denied) | reasons |",
              "| --- | ---: | ---: | --- | --- |"]
    for rule_id, r in report["rules"].items():
        types = ", ".join(f"{t} {c['allowed']}/{c['denied']}" for t, c in r["by_customer_type"].items())
        reasons = ", ".join(f"{code} {n}" for code, n in r["by_reason"].items())
        lines.append(f"| `{_cell(rule_id)}` | {r['allowed']:,} | {r['denied']:,} | {_cell(types)} | {_cell(reasons)} |")
    if report.get("days"):
        lines += ["", "## Per day", "", "| day (UTC) | allowed | denied |", "| --- | ---: | ---: |"]
        lines += [f"| {day} | {c['allowed']:,} | {c['denied']:,} |" for day, c in report["days"].items()]
    return "\n".join(lines) + "\n"


def to_csv(report: dict) -> str:
    """One table: section, id, dimension, value, allowed, denied, count (for spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "id", "dimension", "value", "allowed", "denied", "count"])
    for rule_id, r in report["rules"].items():
        writer.writerow(["rule", rule_id, "total", "", r["allowed"], r["denied"], ""])
        for ctype, c in r["by_customer_type"].items():
            writer.writerow(["rule", rule_id, "customer_type", ctype, c["allowed"], c["denied"], ""])
        for code, n in r["by_reason"].items():
            writer.writerow(["rule", rule_id, "reason", code, "", "", n])
    for exc_id, e in report["exceptions"].items():
        writer.writerow(["exception", exc_id, "total", "", e["allowed"], e["denied"], ""])
        for ctype, c in e["by_customer_type"].items():
            writer.writerow(["exception", exc_id, "customer_type", ctype, c["allowed"], c["denied"], ""])
        for code, n in e["denied_by_reason"].items():
            writer.writerow(["exception", exc_id, "denied_reason", code, "", n, n])
    for day, c in report.get("days", {}).items():
        writer.writerow(["day", day, "total", "", c["allowed"], c["denied"], ""])
    return out.getvalue()
