"""Clause-level, semantic differences between two states of the policy, keyed by id.

The result is plain data (documented in docs/history.md, stable for other tools):

    {"format": 1, "documents": [...], "sections": [...], "rules": [...], "exceptions": [...],
     "models": [...], "summary": "..."}

Every list is sorted by id; every entry has "id" and "change". Text changes carry a word-level
diff: a list of [op, text] with op "=" (kept), "-" (deleted) or "+" (inserted)."""

from __future__ import annotations

import difflib
from typing import Any, Collection

from ..model import Corpus, Exception_, Rule
from .classify import classify

FORMAT = 1


def word_diff(old: str, new: str) -> list[list[str]]:
    """Word-level diff. Whitespace is not significant (a re-wrapped paragraph is unchanged):
    each run holds its words separated by single spaces, and runs are separated by a space."""
    a, b = old.split(), new.split()
    out: list[list[str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            _emit(out, "=", a[i1:i2])
        else:
            if i2 > i1:
                _emit(out, "-", a[i1:i2])
            if j2 > j1:
                _emit(out, "+", b[j1:j2])
    return [[op, " ".join(words)] for op, words in out]


def _emit(out: list, op: str, words: list[str]) -> None:
    if out and out[-1][0] == op:
        out[-1][1].extend(words)
    else:
        out.append([op, list(words)])


def _date(day) -> str | None:
    return None if day is None else day.isoformat()


def _set_change(old, new) -> dict | None:
    added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
    return {"added": added, "removed": removed} if added or removed else None


def _value(old, new, stricter_when=None) -> dict:
    entry: dict[str, Any] = {"from": old, "to": new}
    if stricter_when is not None:
        entry["direction"] = "stricter" if stricter_when(old, new) else "looser"
    return entry


def _text(old: str, new: str) -> dict:
    return {"from": old, "to": new, "words": word_diff(old, new)}


def _empty() -> Corpus:
    return Corpus.of([], [], [])


def diff_corpora(old: Corpus | None, new: Corpus | None, *, documents: Collection[str] | None = None,
                 exceptions: bool = True) -> dict:
    """The clause-level diff of two models. A version page shows part of it, so it may ask for
    only that part (the cost then grows with the page, not with the policy: the site has a
    version page per document version): ``documents``, the documents whose documents, sections
    and rules are compared (None: all), together with those that hold a section or rule of
    theirs on the other side (so that a move in or out is a move, as in the whole diff); and
    ``exceptions``, whether exceptions and models are compared. Classes are the whole diff's."""
    old, new = old or _empty(), new or _empty()
    whole_old, whole_new = old, new
    if documents is not None:
        old, new = _around(old, new, documents), _around(new, old, documents)
    renamed = _renamed_sections(old, new)
    result = {
        "format": FORMAT,
        "documents": _documents(old, new),
        "sections": _sections(old, new, renamed),
        "rules": _rules(old, new, renamed),
        "exceptions": _exceptions(whole_old, whole_new) if exceptions else [],
        "models": _models(whole_old, whole_new) if exceptions else [],
    }
    classify(result, whole_old, whole_new)
    result["summary"] = summarize(result)
    return result


def section_document(corpus: Corpus, section_id: str) -> str | None:
    """The id of the document that holds a section (None: no such section): from the first rule
    under it, else (a section with no rule at all) by looking through the documents."""
    section = corpus.sections.get(section_id)
    if section is None:
        return None
    for part in section.walk():
        if part.rules:
            return part.rules[0].document
    return next((d.id for d in corpus.documents if any(s.id == section_id for s in d.walk_sections())), None)


def _around(corpus: Corpus, other: Corpus, documents: Collection[str]) -> Corpus:
    """The part of ``corpus`` a diff of ``documents`` compares: those documents, and those that
    hold a section or a rule that ``other`` has in them."""
    keep = {d for d in documents if d in corpus.documents_by_id}
    for doc_id in documents:
        doc = other.documents_by_id.get(doc_id)
        if doc is None:
            continue
        for section in doc.walk_sections():
            if (home := section_document(corpus, section.id)) is not None:
                keep.add(home)
            for rule in section.rules:
                if (mine := corpus.rules.get(rule.id)) is not None:
                    keep.add(mine.document)
    return Corpus.of([corpus.documents_by_id[d] for d in sorted(keep)], (), ())


def _documents(old: Corpus, new: Corpus) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for doc_id in sorted(old.documents_by_id.keys() | new.documents_by_id.keys()):
        o, n = old.documents_by_id.get(doc_id), new.documents_by_id.get(doc_id)
        if o is None:
            assert n is not None  # the id came from one side or the other
            out.append({"id": doc_id, "change": "added", "title": n.title, "effective": _date(n.effective)})
        elif n is None:
            out.append({"id": doc_id, "change": "removed", "title": o.title, "effective": _date(o.effective)})
        else:
            fields = {}
            if o.effective != n.effective:
                fields["effective"] = _value(_date(o.effective), _date(n.effective))
            if o.title != n.title:
                fields["title"] = _text(o.title, n.title)
            if o.summary != n.summary:
                fields["summary"] = _text(o.summary, n.summary)
            if fields:
                out.append({"id": doc_id, "change": "changed", "fields": fields})
    return out


def _renamed_sections(old: Corpus, new: Corpus) -> dict[str, str]:
    """old section id -> new section id, for sections whose id changed but whose rules stayed:
    for each section gone (in source order), the new section it shares the most rules with
    (Jaccard overlap of their own rules, at least 0.5), or, where either holds no rule, one of
    the same title; the first in source order on a tie, each new section taken once. The
    candidates come from indexes (the new section of each rule, new sections by title), so a
    restructuring that renames thousands of sections is not compared pair by pair."""
    gone = [s for s in old.sections.values() if s.id not in new.sections]
    fresh = [s for s in new.sections.values() if s.id not in old.sections]
    if not gone or not fresh:
        return {}
    order = {n.id: i for i, n in enumerate(fresh)}
    by_rule: dict[str, list] = {}  # (one section per rule in a valid policy; any number here)
    for n in fresh:
        for r in n.rules:
            by_rule.setdefault(r.id, []).append(n)
    by_title: dict[str, list] = {}
    for n in fresh:
        by_title.setdefault(n.title, []).append(n)
    taken: set[str] = set()
    mapping: dict[str, str] = {}
    for o in gone:
        o_rules = {r.id for r in o.rules}
        scores: dict[str, float] = {}
        for rule_id in o_rules:
            for n in by_rule.get(rule_id, ()):
                if n.id not in scores:
                    n_rules = {r.id for r in n.rules}
                    scores[n.id] = len(o_rules & n_rules) / len(o_rules | n_rules)
        for n in by_title.get(o.title, ()):
            if not o_rules or not n.rules:
                scores[n.id] = 1.0
        choice = min((sid for sid in scores if sid not in taken and scores[sid] > 0),
                     key=lambda sid: (-scores[sid], order[sid]), default=None)
        if choice is not None and scores[choice] >= 0.5:
            mapping[o.id] = choice
            taken.add(choice)
    return mapping


def _sections(old: Corpus, new: Corpus, renamed: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    targets = set(renamed.values())
    for sid in sorted(old.sections.keys() | new.sections.keys()):
        o, n = old.sections.get(sid), new.sections.get(sid)
        if o is not None and n is None:
            if sid in renamed:
                entry: dict[str, Any] = {"id": sid, "change": "renamed", "to": renamed[sid]}
                target = new.sections[renamed[sid]]
                if target.title != o.title:
                    entry["title"] = _text(o.title, target.title)
                out.append(entry)
            else:
                out.append({"id": sid, "change": "removed", "title": o.title})
        elif o is None and n is not None:
            if sid not in targets:
                out.append({"id": sid, "change": "added", "title": n.title})
        elif o is not None and n is not None:
            fields = {}
            if o.title != n.title:
                fields["title"] = _text(o.title, n.title)
            if o.intro != n.intro:
                fields["intro"] = _text(o.intro, n.intro)
            if fields:
                out.append({"id": sid, "change": "changed", "fields": fields})
    return out


def _stricter_effect(old: str, new: str) -> bool:
    return new == "prohibit"


def _rule_fields(o: Rule, n: Rule) -> dict:
    fields: dict[str, Any] = {}
    if o.title != n.title:
        fields["title"] = _text(o.title, n.title)
    if o.text != n.text:
        fields["text"] = _text(o.text, n.text)
    if o.effect != n.effect:
        fields["effect"] = _value(o.effect, n.effect, _stricter_effect)
    if o.waivable != n.waivable:
        fields["waivable"] = _value(o.waivable, n.waivable, lambda a, b: not b)
    if (obligations := _set_change(o.obligations, n.obligations)) is not None:
        obligations["direction"] = "stricter" if obligations["added"] else "looser"
        fields["obligations"] = obligations
    for name in ("effective", "retired"):
        if getattr(o, name) != getattr(n, name):
            fields[name] = _value(_date(getattr(o, name)), _date(getattr(n, name)))
    if o.replaced_by != n.replaced_by:
        fields["replaced_by"] = _value(o.replaced_by, n.replaced_by)
    return fields


def _rules(old: Corpus, new: Corpus, renamed: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rid in sorted(old.rules.keys() | new.rules.keys()):
        o, n = old.rules.get(rid), new.rules.get(rid)
        if o is None:
            assert n is not None  # the id came from one side or the other
            out.append({"id": rid, "change": "added", "document": n.document, "section": n.section,
                        "title": n.title, "effect": n.effect, "waivable": n.waivable,
                        "effective": _date(n.effective), "retired": _date(n.retired)})
            continue
        if n is None:
            out.append({"id": rid, "change": "removed", "document": o.document, "section": o.section,
                        "title": o.title})
            continue
        if o is n and o.section not in renamed:
            continue  # the very same rule (versions read incrementally share what did not change)
        fields = _rule_fields(o, n)
        moved = None
        if (o.document, renamed.get(o.section, o.section)) != (n.document, n.section):
            moved = {"from": {"document": o.document, "section": o.section},
                     "to": {"document": n.document, "section": n.section}}
        if not fields and moved is None:
            continue
        if o.retired is None and n.retired is not None:
            change = "retired"
        elif o.retired is not None and n.retired is None:
            change = "unretired"
        elif not fields:
            change = "moved"
        else:
            change = "changed"
        entry: dict[str, Any] = {"id": rid, "change": change, "title": n.title}
        if moved is not None:
            entry["moved"] = moved
        if fields:
            entry["fields"] = fields
        out.append(entry)
    return out


def _exception_fields(o: Exception_, n: Exception_) -> dict:
    fields: dict[str, Any] = {}
    if o.title != n.title:
        fields["title"] = _text(o.title, n.title)
    if o.status != n.status:
        fields["status"] = _value(o.status, n.status, lambda a, b: b != "active")
    for name in ("effective", "review_by", "expires"):
        if getattr(o, name) != getattr(n, name):
            fields[name] = _value(_date(getattr(o, name)), _date(getattr(n, name)))
    for name, stricter_if_added in (("customer_types", False), ("attestations", True), ("retains", True)):
        change = _set_change(getattr(o, name), getattr(n, name))
        if change is not None:
            grew = bool(change["added"]) and not change["removed"]
            shrank = bool(change["removed"]) and not change["added"]
            if grew or shrank:
                change["direction"] = "stricter" if grew == stricter_if_added else "looser"
            fields[name] = change
    if o.max_asl != n.max_asl:
        fields["max_asl"] = _value(o.max_asl, n.max_asl, lambda a, b: b < a)
    old_permits = {p.rule: p.purposes for p in o.permits}
    new_permits = {p.rule: p.purposes for p in n.permits}
    permits: dict[str, Any] = {}
    if (rules := _set_change(old_permits, new_permits)) is not None:
        permits.update(rules)
    purposes = {rule: change for rule in sorted(old_permits.keys() & new_permits.keys())
                if (change := _set_change(old_permits[rule], new_permits[rule])) is not None}
    if purposes:
        permits["purposes"] = purposes
    if permits:
        fields["permits"] = permits
    if o.summary != n.summary:
        fields["summary"] = _text(o.summary, n.summary)
    return fields


def _exceptions(old: Corpus, new: Corpus) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for eid in sorted(old.exceptions_by_id.keys() | new.exceptions_by_id.keys()):
        o, n = old.exceptions_by_id.get(eid), new.exceptions_by_id.get(eid)
        if o is None:
            assert n is not None  # the id came from one side or the other
            out.append({"id": eid, "change": "added", "title": n.title, "status": n.status,
                        "effective": _date(n.effective)})
        elif n is None:
            out.append({"id": eid, "change": "removed", "title": o.title, "status": o.status})
        elif fields := _exception_fields(o, n):
            out.append({"id": eid, "change": "changed", "title": n.title, "fields": fields})
    return out


def _models(old: Corpus, new: Corpus) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for mid in sorted(old.models_by_id.keys() | new.models_by_id.keys()):
        o, n = old.models_by_id.get(mid), new.models_by_id.get(mid)
        if o is None:
            assert n is not None  # the id came from one side or the other
            out.append({"id": mid, "change": "added", "asl": n.asl})
        elif n is None:
            out.append({"id": mid, "change": "removed", "asl": o.asl})
        elif (o.asl, o.name) != (n.asl, n.name):
            out.append({"id": mid, "change": "changed", "fields": {
                k: _value(getattr(o, k), getattr(n, k)) for k in ("asl", "name") if getattr(o, k) != getattr(n, k)}})
    return out


_EXCEPTION_WORDS = {"review_by": "review date moved", "effective": "effective date changed",
                    "expires": "expiry changed", "status": "status changed", "title": "retitled",
                    "customer_types": "eligibility changed", "attestations": "attestations changed",
                    "max_asl": "ASL cap changed", "permits": "permitted rules or purposes changed",
                    "retains": "retained rules changed", "summary": "summary edited"}


def summarize(diff: dict) -> str:
    """One line: 'usage-policy: version 2024-06-06 -> 2025-09-15; 3 rules changed, 1 added; ...'"""
    parts: list[str] = []
    for doc in diff["documents"]:
        if doc["change"] == "changed" and "effective" in doc["fields"]:
            eff = doc["fields"]["effective"]
            parts.append(f"{doc['id']}: version {eff['from']} -> {eff['to']}")
        elif doc["change"] != "changed":
            parts.append(f"document {doc['id']} {doc['change']}")
    counts: dict[str, int] = {}
    for rule in diff["rules"]:
        counts[rule["change"]] = counts.get(rule["change"], 0) + 1
    order = ["changed", "added", "retired", "moved", "removed", "unretired"]
    rule_bits = [f"{counts[c]} {c}" for c in order if counts.get(c)]
    if rule_bits:
        first_count = counts[next(c for c in order if counts.get(c))]
        rule_bits[0] = rule_bits[0].replace(" ", " rule " if first_count == 1 else " rules ", 1)
        parts.append(", ".join(rule_bits))
    section_counts: dict[str, int] = {}
    for section in diff["sections"]:
        section_counts[section["change"]] = section_counts.get(section["change"], 0) + 1
    for kind in ("added", "renamed", "changed", "removed"):
        if section_counts.get(kind):
            n = section_counts[kind]
            parts.append(f"{n} section{'s' if n > 1 else ''} {kind}")
    for exc in diff["exceptions"]:
        if exc["change"] == "changed":
            words = ", ".join(_EXCEPTION_WORDS.get(k, k) for k in exc["fields"])
            parts.append(f"exception {exc['id']}: {words}")
        else:
            parts.append(f"exception {exc['id']} {exc['change']}")
    for model in diff["models"]:
        parts.append(f"model {model['id']} {model['change']}")
    return "; ".join(parts) if parts else "no change to the policy"
