"""`policy new exception ID`: a commented skeleton that validates once its TODO text is replaced."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from .errors import UsageError
from .facts import ID as ID_RE
from .model import Corpus
from .schema import schema_path
from .validate import check_root


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def exception_skeleton(exc_id: str, corpus: Corpus | None, today: dt.date, schema_ref: str) -> str:
    waivable = [r for r in (corpus.rules.values() if corpus else ())
                if r.effect == "prohibit" and r.waivable and r.retired is None]
    fixed = [r for r in (corpus.rules.values() if corpus else ())
             if r.effect == "prohibit" and not r.waivable and r.retired is None]
    levels = sorted({m.asl for m in corpus.models}) if corpus else []
    max_asl = 2 if (not levels or 2 in levels or levels[0] < 2) else levels[0]
    permit = waivable[0].id if waivable else "TODO"
    lines = [
        f"# yaml-language-server: $schema={schema_ref}",
        f"# Contractual exception '{exc_id}'. Replace every TODO, then run: policy check",
        "# Every field is explained in docs/source-format.md (section 'Exceptions').",
        f"id: {exc_id}",
        "# The name shown on the public 'Exceptions to our Usage Policy' page.",
        f"title: {_q('TODO: a short title, e.g. Legally authorized foreign intelligence analysis')}",
        "# draft: not published, grants nothing | active: applies to customers who hold it | retired: no longer granted",
        "status: draft",
        "# The first day the exception applies, and when people must review it again (required while active).",
        f"effective: {today.isoformat()}",
        f"review_by: {_one_year_after(today).isoformat()}",
        "# expires: YYYY-MM-DD   # optional: the first day it no longer applies",
        "eligibility:",
        "  # Which kinds of customer may hold it.",
        "  customer_types: [government]",
        "  # What each customer's contract must record before the exception applies (ids).",
        "  attestations: [legal-authority]",
        "models:",
        "  # Only models at or below this AI Safety Level are covered (see policy/models.yaml).",
        f"  max_asl: {max_asl}",
        "# The rules this exception relaxes, each for the listed purposes only.",
    ]
    if waivable:
        lines.append("# Rules that may be relaxed (effect: prohibit, waivable: true):")
        lines += [f"#   {r.id}: {r.title}" for r in waivable[:20]]
    else:
        lines.append("# No rule in policy/ is waivable yet: mark one 'waivable: true' first.")
    lines += [
        "permits:",
        f"  - rule: {permit if ID_RE.match(permit) else _q(permit)}",
        "    purposes:",
        f"      - {_q('TODO: a purpose this relaxation covers, e.g. combating human trafficking')}",
        "# Restrictions that stay fully in force for holders of this exception; the public page names them.",
    ]
    if fixed:
        lines.append("# For example: " + ", ".join(r.id for r in fixed[:6]))
    lines += [
        "retains: []",
        "# For the public support page: what the exception allows, for whom, and why (Markdown).",
        "summary: |",
        "  TODO: explain what this exception allows, who may hold it, and the safeguards around it.",
        "# The agreement that grants it, and who approved it (kept in the sources, never published).",
        f"contract: {_q('TODO: the contract reference, e.g. MSA-2024-017')}",
        f"approved_by: [{_q('TODO: who approved it, e.g. Ann Counsel <ann@example.com>')}]",
        "",
    ]
    return "\n".join(lines)


def new_exception(root: Path, exc_id: str, *, today: dt.date | None = None) -> Path:
    """Write ``exceptions/<exc_id>.yaml`` under ``root``; returns its path. Never overwrites."""
    if not ID_RE.match(exc_id):
        raise UsageError(f"'{exc_id}' is not a valid exception id; ids are lowercase letters and digits "
                         f"in words joined by '-', e.g. government-foreign-intelligence")
    root = Path(root)
    if not (root / "policy").is_dir():
        raise UsageError(f"{root}: no policy/ folder here; run this in the policy root or pass --root")
    target = root / "exceptions" / f"{exc_id}.yaml"
    if target.exists():
        raise UsageError(f"{target} already exists; edit it, or choose another id")
    today = today or dt.datetime.now(dt.timezone.utc).date()
    corpus = check_root(root, today=today).corpus
    target.parent.mkdir(exist_ok=True)
    schema_ref = os.path.relpath(str(schema_path("exception")), target.parent.resolve())
    text = exception_skeleton(exc_id, corpus, today, schema_ref.replace(os.sep, "/"))
    tmp = target.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target
