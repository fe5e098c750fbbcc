"""data.json: everything services need to decide, derived from the model (DESIGN §4).

Objects are keyed by id so that both the Python library and Rego look things up directly.
Rules and exceptions whose effective date is still in the future are included: services switch
on the day, without a redeploy."""

from __future__ import annotations

from ..config import Settings
from ..gitinfo import SourceRevision
from ..model import Corpus
from . import SCHEMA_VERSION


def _date(day) -> str | None:
    return None if day is None else day.isoformat()


def bundle_data(corpus: Corpus, settings: Settings, revision: SourceRevision) -> dict:
    base = settings.base_url

    def url(page: str, anchor: str) -> str:
        return f"{base}{page}/#{anchor}"

    documents = {d.id: {"title": d.title, "effective": d.effective.isoformat(), "url": f"{base}{d.id}/"}
                 for d in corpus.documents}
    rules = {}
    for doc in corpus.documents:
        for rule in doc.rules():
            rules[rule.id] = {
                "title": rule.title, "document": doc.id, "section": rule.section, "effect": rule.effect,
                "waivable": rule.waivable, "obligations": list(rule.obligations),
                "effective": _date(rule.effective), "retired": _date(rule.retired),
                "replaced_by": rule.replaced_by, "url": url(doc.id, rule.id),
            }
    exceptions = {}
    for exc in corpus.exceptions:
        exceptions[exc.id] = {
            "title": exc.title, "status": exc.status, "effective": exc.effective.isoformat(),
            "expires": _date(exc.expires), "review_by": _date(exc.review_by),
            "customer_types": list(exc.customer_types), "attestations": list(exc.attestations),
            "max_asl": exc.max_asl,
            "permits": {p.rule: list(p.purposes) for p in exc.permits},
            "retains": list(exc.retains),
            "url": url("exceptions", exc.id) if exc.status == "active" else None,
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "version": _date(corpus.version),
        "revision": revision.commit or "",
        "dirty": revision.dirty,
        "documents": documents,
        "rules": rules,
        "exceptions": exceptions,
        "models": {m.id: {"name": m.name, "asl": m.asl} for m in corpus.models},
        "obligations": {o.id: {"title": o.title, "document": o.document} for o in corpus.obligations.values()},
    }
