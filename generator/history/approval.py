"""Approvals required: with `require_approval = "looser"` (or "any") under [tool.policy],
`policy check --against REV` asks that the looser changes since REV (or all the changes that
are not editorial) were committed with an "Approved-by: Name <email>" trailer, git's own
convention for who signed off a change (`git commit --trailer "Approved-by: ..."`).

A change still uncommitted cannot carry one; a commit since REV must. A trailer that is not
`Name <email>` is refused, naming the commit.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import Diagnostic
from ..model import Corpus
from .diff import diff_corpora

MODES = ("none", "looser", "any")
TRAILER = re.compile(r"[^<>\s][^<>]*\s<[^<>@\s]+@[^<>\s]+>")
_NEEDS = {"looser": ("looser", "mixed"), "any": ("looser", "mixed", "stricter")}
_KEYS = (("rules", "rule"), ("exceptions", "exception"), ("models", "model"))


def _place(current: Corpus, kind: str, ident: str) -> tuple[str, int, int]:
    """Where the entry's id is written now (its folder when it is gone)."""
    found: Any = {"rule": current.rules, "exception": current.exceptions_by_id,
                  "model": current.models_by_id}[kind].get(ident)
    if found is None:
        return ("exceptions/" if kind == "exception" else "policy/", 0, 0)
    where = found.positions.get("id", found.origin) if hasattr(found, "positions") else found.origin
    return (where.path, where.line, where.col)


def approval_problems(previous: Corpus, current: Corpus, mode: str, against: str,
                      commits: list[tuple[str, list[str]]], head: Corpus | None) -> list[Diagnostic]:
    """``commits``: (sha, Approved-by values) of each commit since ``against``; ``head``: the
    sources at HEAD when the working tree's differ from them (None when they do not)."""
    if mode not in _NEEDS:
        return []
    problems: list[Diagnostic] = []
    approved = False
    for sha, values in commits:
        for value in values:
            if TRAILER.fullmatch(value.strip()):
                approved = True
            else:
                problems.append(Diagnostic(f"commit {sha[:12]}", 0, 0,
                                           f"malformed trailer 'Approved-by: {value}'; write "
                                           f"'Approved-by: Name <email>' (git commit --trailer)"))
    what = "looser changes" if mode == "looser" else "changes that are not editorial"
    committed = _needing(diff_corpora(previous, head if head is not None else current), mode)
    if not approved:
        for kind, entry in committed:
            problems.append(_problem(current, kind, entry, mode, what,
                                     f"has no approval: no commit since {against} carries an 'Approved-by:' trailer",
                                     "amend the commit, or merge, with an 'Approved-by: Name <email>' trailer "
                                     "(git commit --amend --trailer \"Approved-by: ...\")"))
    if head is not None:
        for kind, entry in _needing(diff_corpora(head, current), mode):
            problems.append(_problem(current, kind, entry, mode, what, "is not committed yet",
                                     "commit it with an 'Approved-by: Name <email>' trailer "
                                     "(git commit --trailer \"Approved-by: ...\")"))
    return problems


def _needing(diff: dict, mode: str) -> list[tuple[str, dict]]:
    return [(kind, e) for key, kind in _KEYS for e in diff[key] if e["class"] in _NEEDS[mode]]


def _problem(current: Corpus, kind: str, entry: dict, mode: str, what: str, state: str, advice: str) -> Diagnostic:
    path, line, col = _place(current, kind, entry["id"])
    return Diagnostic(path, line, col, f"{entry['class']} change to {kind} '{entry['id']}' ({entry['change']}) "
                                       f"{state}; [tool.policy] require_approval = \"{mode}\" asks for {what} to "
                                       f"be approved: {advice}")
