"""Dates the legal team must act on or know about: exception reviews and expiries, and the
scheduled changes (rules, documents and exceptions that take effect or are retired on a date).

`policy due` lists what is overdue and what is coming, soonest first (exit 1 when anything is
overdue, for a daily CI job); the site publishes the same dates as calendar.ics. Only published
facts are listed: draft exceptions are not (they grant nothing and are not on the site).

Overdue means a date has passed and the sources still say otherwise: an active exception whose
review date is past (review it, then move `review_by`), or whose expiry date is past (set
`status: retired`). Scheduled dates are never overdue: they simply take effect.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .model import Corpus, Origin

# kinds, and how each reads in a list or a calendar
REVIEW, EXPIRY, EXCEPTION_EFFECTIVE = "review", "expiry", "exception-effective"
RULE_EFFECTIVE, RULE_RETIRED, DOCUMENT_EFFECTIVE = "rule-effective", "rule-retired", "document-effective"
KINDS = (REVIEW, EXPIRY, EXCEPTION_EFFECTIVE, RULE_EFFECTIVE, RULE_RETIRED, DOCUMENT_EFFECTIVE)
_FIX = {
    REVIEW: "review the exception, then set 'review_by' to the next review date",
    EXPIRY: "set 'status: retired' (or a later 'expires' if the contract was extended)",
}
_OVERDUE = {
    REVIEW: "the review of exception '{id}' was due on {day} ({ago})",
    EXPIRY: "exception '{id}' expired on {day} ({ago}) but is still active",
}


@dataclass(frozen=True, slots=True)
class Due:
    day: dt.date
    kind: str  # one of KINDS
    subject: str  # the exception, rule or document id
    title: str  # what the subject is called
    summary: str  # one line: what happens on the day
    page: str  # the site page and anchor that shows it ("exceptions/#id", "usage-policy/#rule")
    origin: Origin  # where the date is written

    def overdue(self, today: dt.date) -> bool:
        return self.kind in (REVIEW, EXPIRY) and self.day < today

    @property
    def fix(self) -> str:
        return _FIX.get(self.kind, "")


def due_items(corpus: Corpus) -> list[Due]:
    """Every dated event of the published sources, by date, then kind and subject."""
    out: list[Due] = []
    for exc in corpus.exceptions:
        if exc.status != "active":
            continue
        page = f"exceptions/#{exc.id}"
        where = exc.positions.get
        if exc.review_by is not None:
            out.append(Due(exc.review_by, REVIEW, exc.id, exc.title, f"Review of exception {exc.id} due",
                           page, where("review_by", exc.origin)))
        if exc.expires is not None:
            out.append(Due(exc.expires, EXPIRY, exc.id, exc.title, f"Exception {exc.id} expires",
                           page, where("expires", exc.origin)))
        out.append(Due(exc.effective, EXCEPTION_EFFECTIVE, exc.id, exc.title,
                       f"Exception {exc.id} takes effect", page, where("effective", exc.origin)))
    for doc in corpus.documents:
        out.append(Due(doc.effective, DOCUMENT_EFFECTIVE, doc.id, doc.title,
                       f"{doc.title}: the version of {doc.effective.isoformat()} takes effect", f"{doc.id}/",
                       doc.positions.get("effective", doc.origin)))
    for rule in corpus.rules.values():
        page = f"{rule.document}/#{rule.id}"
        if rule.effective is not None:
            out.append(Due(rule.effective, RULE_EFFECTIVE, rule.id, rule.title, f"Rule {rule.id} takes effect",
                           page, rule.positions.get("effective", rule.origin)))
        if rule.retired is not None:
            out.append(Due(rule.retired, RULE_RETIRED, rule.id, rule.title, f"Rule {rule.id} is retired",
                           page, rule.positions.get("retired", rule.origin)))
    out.sort(key=lambda d: (d.day, KINDS.index(d.kind), d.subject))
    return out


def calendar_items(corpus: Corpus) -> list[Due]:
    """The events of calendar.ics: the same dates, with the rules of one document that change on
    one day grouped into one event ("Usage Policy: 3 rules take effect"), listing them, so that a
    subscribed calendar shows one entry per change of a document, not one per clause."""
    titles = {d.id: d.title for d in corpus.documents}
    grouped: dict[tuple[dt.date, str, str], list[Due]] = {}
    out: list[Due] = []
    for item in due_items(corpus):
        if item.kind in (RULE_EFFECTIVE, RULE_RETIRED):
            document = corpus.rules[item.subject].document
            grouped.setdefault((item.day, item.kind, document), []).append(item)
        else:
            out.append(item)
    for (day, kind, document), items in grouped.items():
        verb = "take effect" if kind == RULE_EFFECTIVE else "are retired"
        if len(items) == 1:
            out.append(items[0])
            continue
        listing = "\n".join(f"{i.subject}: {i.title}" for i in items)
        out.append(Due(day, kind, document, listing, f"{titles.get(document, document)}: {len(items)} rules {verb}",
                       f"{document}/", items[0].origin))
    out.sort(key=lambda d: (d.day, KINDS.index(d.kind), d.subject))
    return out


def agenda(corpus: Corpus, today: dt.date, within: int | None = None) -> tuple[list[Due], list[Due]]:
    """(overdue, coming): the overdue items, and those from today on (within ``within`` days when
    given), each soonest first."""
    items = due_items(corpus)
    overdue = [d for d in items if d.overdue(today)]
    last = today + dt.timedelta(days=within) if within is not None else None
    coming = [d for d in items if d.day >= today and (last is None or d.day <= last)]
    return overdue, coming


def _ago(day: dt.date, today: dt.date) -> str:
    n = (today - day).days
    if n == 0:
        return "today"
    if n > 0:
        return f"{n} day{'s' if n != 1 else ''} ago"
    return f"in {-n} day{'s' if n != -1 else ''}"


def to_text(overdue: list[Due], coming: list[Due], today: dt.date, within: int | None,
            display=lambda path: path) -> str:
    """The listing `policy due` prints: overdue items as `path:line:col: message; fix` lines (an
    editor jumps to them), then what is coming, soonest first, then a summary line."""
    lines: list[str] = []
    for d in overdue:
        o = d.origin
        what = _OVERDUE[d.kind].format(id=d.subject, day=d.day.isoformat(), ago=_ago(d.day, today))
        lines.append(f"{display(o.path)}:{o.line}:{o.col}: {what}; {d.fix}")
    if coming:
        lines.append("coming:" if within is None else f"coming in the next {within} days:")
        for d in coming:
            o = d.origin
            lines.append(f"  {d.day.isoformat()}  {_ago(d.day, today):<12}  {d.summary}  "
                         f"({display(o.path)}:{o.line})")
    until = "" if within is None else f" up to {(today + dt.timedelta(days=within)).isoformat()}"
    lines.append(f"policy due: {len(overdue)} overdue, {len(coming)} coming{until} (as of {today.isoformat()})")
    return "\n".join(lines) + "\n"


def to_json(overdue: list[Due], coming: list[Due], today: dt.date, within: int | None) -> dict:
    def item(d: Due) -> dict:
        return {"date": d.day.isoformat(), "kind": d.kind, "id": d.subject, "title": d.title,
                "summary": d.summary, "page": d.page, "path": d.origin.path, "line": d.origin.line,
                "column": d.origin.col, **({"fix": d.fix} if d.overdue(today) else {})}

    return {"format": 1, "today": today.isoformat(), "within_days": within,
            "overdue": [item(d) for d in overdue], "coming": [item(d) for d in coming]}
