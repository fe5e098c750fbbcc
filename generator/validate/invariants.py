"""Cross-file invariants (DESIGN §2) on the built model: each problem located and explained."""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Iterable

from ..errors import Diagnostic
from ..model import Corpus, Document, Exception_, Origin, Rule, Section

MAX_SECTION_DEPTH = 3
#: Names the published site uses for its own pages; a document may not take them as its id.
RESERVED_DOCUMENT_IDS = frozenset({"exceptions", "matrix", "assets", "schema", "bundle", "versions",
                                   "index", "404", "sitemap", "feed"})


def _diag(origin: Origin, message: str, severity: str = "error") -> Diagnostic:
    return Diagnostic(origin.path, origin.line, origin.col, message, severity)


def _suggest(name: str, candidates: Iterable[str]) -> str:
    hint = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f"did you mean '{hint[0]}'? " if hint else ""


def check_documents(documents: list[Document]) -> list[Diagnostic]:
    """Unique ids across documents, well-formed rules, obligations that exist."""
    out: list[Diagnostic] = []
    doc_seen: dict[str, Document] = {}
    anchor_seen: dict[str, tuple[str, Section | Rule]] = {}  # rule and section ids share the page's anchors
    obligation_seen: dict[str, Origin] = {}
    for doc in documents:
        if doc.id in doc_seen:
            first = doc_seen[doc.id]
            out.append(_diag(doc.positions.get("id", doc.origin),
                             f"document id '{doc.id}' is already used by {first.path}; give each document its own id"))
        doc_seen.setdefault(doc.id, doc)
        if doc.id in RESERVED_DOCUMENT_IDS:
            out.append(_diag(doc.positions.get("id", doc.origin),
                             f"'{doc.id}' is reserved for a page of the published site; choose another "
                             f"document id (reserved: {', '.join(sorted(RESERVED_DOCUMENT_IDS))})"))
        for ob in doc.obligations:
            if ob.id in obligation_seen:
                where = obligation_seen[ob.id]
                out.append(_diag(ob.origin, f"obligation id '{ob.id}' is already defined at "
                                            f"{where.path}:{where.line}; define each obligation once"))
            obligation_seen.setdefault(ob.id, ob.origin)
        for section in doc.walk_sections():
            if section.id in anchor_seen:
                out.append(_duplicate(anchor_seen, section.id, "section", section))
            else:
                anchor_seen[section.id] = ("section", section)
            if section.depth > MAX_SECTION_DEPTH:
                out.append(_diag(section.origin, f"section '{section.id}' is nested {section.depth} levels deep; "
                                                 f"at most {MAX_SECTION_DEPTH} levels are allowed"))
            for rule in section.rules:  # (where an id was written is looked up only for a duplicate)
                if rule.id in anchor_seen:
                    out.append(_duplicate(anchor_seen, rule.id, "rule", rule))
                else:
                    anchor_seen[rule.id] = ("rule", rule)
    all_obligations = set(obligation_seen)
    for doc in documents:
        for rule in doc.rules():
            out += _check_rule(rule, all_obligations)
    return out


def _id_origin(item: Section | Rule) -> Origin:
    """Where a section's or rule's id was written."""
    return item.origin if isinstance(item, Section) else item.positions.get("id", item.origin)


def _duplicate(seen: dict[str, tuple[str, Section | Rule]], ident: str, what: str, item: Section | Rule) -> Diagnostic:
    other, first = seen[ident]
    where = _id_origin(first)
    return _diag(_id_origin(item), f"{what} id '{ident}' is already used by a {other} at {where.path}:{where.line}; "
                                   f"ids of rules and sections must be unique across all documents")


def _check_rule(rule: Rule, obligations: set[str]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    at = rule.positions.get
    if rule.effect == "require" and not rule.obligations:
        out.append(_diag(at("effect", rule.origin),
                         f"rule '{rule.id}' has effect: require but lists no obligations; add "
                         f"'obligations: [...]' naming what the use requires (e.g. human-review)"))
    if rule.effect == "prohibit" and rule.obligations:
        out.append(_diag(at("obligations", rule.origin),
                         f"rule '{rule.id}' prohibits a use, so it cannot list obligations; remove "
                         f"'obligations' or set 'effect: require'"))
    if rule.effect == "require" and rule.waivable:
        out.append(_diag(at("waivable", rule.origin),
                         f"rule '{rule.id}' has effect: require and cannot be waivable; only prohibitions "
                         f"can be relaxed by an exception: remove 'waivable: true'"))
    for i, ob in enumerate(rule.obligations):
        if ob not in obligations:
            out.append(_diag(at(f"obligations[{i}]", rule.origin),
                             f"rule '{rule.id}' names obligation '{ob}', which no document defines; "
                             f"{_suggest(ob, obligations)}define it under 'obligations:' at the top of a document"))
    if rule.effective and rule.retired and not rule.effective < rule.retired:
        out.append(_diag(at("retired", rule.origin),
                         f"rule '{rule.id}' is retired ({rule.retired}) before it takes effect ({rule.effective}); "
                         f"'retired' must come after 'effective'"))
    if rule.replaced_by is not None:
        if rule.retired is None:
            out.append(_diag(at("replaced_by", rule.origin),
                             f"rule '{rule.id}' names a replacement but is not retired; add 'retired: YYYY-MM-DD' "
                             f"or remove 'replaced_by'"))
        if rule.replaced_by == rule.id:
            out.append(_diag(at("replaced_by", rule.origin), f"rule '{rule.id}' cannot replace itself"))
    return out


def check_replacements(corpus: Corpus) -> list[Diagnostic]:
    out = []
    for rule in corpus.rules.values():
        if rule.replaced_by and rule.replaced_by != rule.id and rule.replaced_by not in corpus.rules:
            out.append(_diag(rule.positions.get("replaced_by", rule.origin),
                             f"rule '{rule.id}' is replaced by '{rule.replaced_by}', which is not a rule; "
                             f"{_suggest(rule.replaced_by, corpus.rules)}name an existing rule"))
    return out


def check_models(corpus: Corpus) -> list[Diagnostic]:
    out = []
    seen: dict[str, Origin] = {}
    for model in corpus.models:
        if model.id in seen:
            out.append(_diag(model.origin, f"model id '{model.id}' is listed twice (first at line "
                                           f"{seen[model.id].line}); list each model once"))
        seen.setdefault(model.id, model.origin)
    return out


def check_exception(exc: Exception_, corpus: Corpus, today: dt.date, complete: bool = True) -> list[Diagnostic]:
    """One exception's own invariants, and (with a corpus) its references to rules and models."""
    out: list[Diagnostic] = []
    at = exc.positions.get
    stem = exc.path.rsplit("/", 1)[-1][: -len(".yaml")]
    if exc.id != stem:
        out.append(_diag(at("id", exc.origin), f"the exception id '{exc.id}' does not match its file name "
                                               f"'{stem}.yaml'; rename the file to '{exc.id}.yaml' or set 'id: {stem}'"))
    if exc.status == "active" and exc.review_by is None:
        out.append(_diag(at("status", exc.origin),
                         f"active exception '{exc.id}' has no review date; add 'review_by: YYYY-MM-DD' "
                         f"(when it must next be reviewed)"))
    if exc.review_by and not exc.effective < exc.review_by:
        out.append(_diag(at("review_by", exc.origin),
                         f"review_by ({exc.review_by}) must come after effective ({exc.effective}); "
                         f"set a review date later than the date the exception takes effect"))
    if exc.expires and not exc.effective < exc.expires:
        out.append(_diag(at("expires", exc.origin),
                         f"expires ({exc.expires}) must come after effective ({exc.effective})"))
    permitted: dict[str, int] = {}
    for i, permit in enumerate(exc.permits):
        if permit.rule in permitted:
            out.append(_diag(permit.rule_origin, f"rule '{permit.rule}' is permitted twice; merge the two "
                                                 f"entries and list all their purposes once"))
        permitted.setdefault(permit.rule, i)
    for i, rule_id in enumerate(exc.retains):
        if rule_id in permitted:
            out.append(_diag(at(f"retains[{i}]", exc.origin),
                             f"rule '{rule_id}' is both permitted and retained by this exception; "
                             f"remove it from 'retains' or from 'permits'"))
    if exc.status == "draft":
        out.append(_diag(at("status", exc.origin), f"exception '{exc.id}' is a draft: it is not published "
                                                   f"and grants nothing until 'status: active'", "warning"))
    if exc.status == "active":
        missing = [name for name, value in (("contract", exc.contract), ("approved_by", exc.approved_by)) if not value]
        if missing:
            out.append(_diag(at("id", exc.origin), f"active exception '{exc.id}' does not say "
                                         f"{' or '.join(_STATES[m] for m in missing)}; add "
                                         f"{' and '.join(_EXAMPLES[m] for m in missing)} (not published)", "warning"))
    if exc.status == "active" and exc.review_by and exc.effective < exc.review_by < today:
        out.append(_diag(at("review_by", exc.origin),
                         f"exception '{exc.id}' was due for review on {exc.review_by}; review it and move "
                         f"'review_by' to the next review date", "warning"))
    if exc.status == "active" and exc.expires and exc.expires <= today:
        out.append(_diag(at("expires", exc.origin),
                         f"exception '{exc.id}' expired on {exc.expires} but is still marked active; "
                         f"set 'status: retired'", "warning"))
    out += _check_references(exc, corpus, complete)
    return out


_STATES = {"contract": "which contract grants it", "approved_by": "who approved it"}
_EXAMPLES = {"contract": "'contract: MSA-2024-017'", "approved_by": "'approved_by: [Ann Counsel <ann@example.com>]'"}


def _check_references(exc: Exception_, corpus: Corpus, complete: bool) -> list[Diagnostic]:
    """References to rules and models; with ``complete`` False (some policy file is broken),
    a missing rule or model may only be missing because its file failed, so it is not reported."""
    out: list[Diagnostic] = []
    rules = corpus.rules
    for permit in exc.permits:
        rule = rules.get(permit.rule)
        if rule is None:
            if complete:
                out.append(_diag(permit.rule_origin, f"permits rule '{permit.rule}', which does not exist; "
                                                     f"{_suggest(permit.rule, rules)}name a rule id from policy/"))
        elif rule.effect != "prohibit":
            out.append(_diag(permit.rule_origin,
                             f"permits rule '{permit.rule}', which has effect: {rule.effect}; only prohibitions "
                             f"(effect: prohibit, waivable: true) can be relaxed by an exception"))
        elif not rule.waivable:
            out.append(_diag(permit.rule_origin,
                             f"permits rule '{permit.rule}', which is not waivable ({rule.origin.path}:"
                             f"{rule.origin.line}); no exception may relax it: remove it from 'permits'"))
        elif rule.retired and rule.retired <= exc.effective:
            out.append(_diag(permit.rule_origin,
                             f"permits rule '{permit.rule}', which was retired on {rule.retired}, before this "
                             f"exception takes effect; permit its replacement instead", "warning"))
    for i, rule_id in enumerate(exc.retains):
        if rule_id not in rules and complete:
            out.append(_diag(exc.positions.get(f"retains[{i}]", exc.origin),
                             f"retains rule '{rule_id}', which does not exist; "
                             f"{_suggest(rule_id, rules)}name a rule id from policy/"))
    if complete and corpus.models and not any(m.asl <= exc.max_asl for m in corpus.models):
        levels = ", ".join(f"{m.id} (ASL {m.asl})" for m in corpus.models)
        out.append(_diag(exc.positions.get("models.max_asl", exc.origin),
                         f"max_asl is {exc.max_asl} but no model in policy/models.yaml is at or below it "
                         f"({levels}); raise max_asl or add the model"))
    return out
