"""A locale's view of the corpus: the same model (ids, dates, effects: everything a decision
reads), with translated text where a unit is translated, and the authoritative text, flagged,
where it is stale or missing. Bundles never see this: decisions stay language-neutral."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Mapping

from ..model import Corpus, Document, Exception_, Permit, Section
from .status import TRANSLATED, LocaleStatus


@dataclasses.dataclass(frozen=True, slots=True)
class LocaleCorpus:
    corpus: Corpus
    fallback: Mapping[str, str]  # "<kind>:<id>" -> "stale" | "missing": shown in the authoritative language
    exceptions_title: str


def _values(status: LocaleStatus, kind: str, unit_id: str, fallback: dict[str, str]) -> Mapping[str, str] | None:
    state = status.state(kind, unit_id)
    if state is None:
        return None
    if state.state != TRANSLATED:
        fallback[f"{kind}:{unit_id}"] = state.state
        return None
    return state.values


def _document(doc: Document, status: LocaleStatus, fallback: dict[str, str]) -> Document:
    def section(sec: Section) -> Section:
        rules = []
        for rule in sec.rules:
            values = _values(status, "rule", rule.id, fallback)
            rules.append(dataclasses.replace(rule, title=values["title"], text=values["text"]) if values else rule)
        values = _values(status, "section", sec.id, fallback)
        title, intro = (values["title"], values.get("intro", sec.intro)) if values else (sec.title, sec.intro)
        return dataclasses.replace(sec, title=title, intro=intro, rules=tuple(rules),
                                   sections=tuple(section(s) for s in sec.sections))

    obligations = []
    for ob in doc.obligations:
        values = _values(status, "obligation", ob.id, fallback)
        obligations.append(dataclasses.replace(ob, title=values["title"], text=values.get("text", ob.text))
                           if values else ob)
    values = _values(status, "document", doc.id, fallback)
    title, summary = (values["title"], values.get("summary", doc.summary)) if values else (doc.title, doc.summary)
    return dataclasses.replace(doc, title=title, summary=summary, obligations=tuple(obligations),
                               sections=tuple(section(s) for s in doc.sections))


def _exception(exc: Exception_, status: LocaleStatus, fallback: dict[str, str]) -> Exception_:
    values = _values(status, "exception", exc.id, fallback) if exc.status == "active" else None
    if not values:
        return exc
    permits = tuple(Permit(p.rule, tuple(values.get(f"purpose.{p.rule}.{n}", text)
                                         for n, text in enumerate(p.purposes, 1)), p.origin, p.rule_origin)
                    for p in exc.permits)
    return dataclasses.replace(exc, title=values["title"], summary=values.get("summary", exc.summary),
                               permits=permits)


def localize(corpus: Corpus, status: LocaleStatus, exceptions_title: str) -> LocaleCorpus:
    fallback: dict[str, str] = {}
    documents = [_document(d, status, fallback) for d in corpus.documents]
    exceptions = [_exception(e, status, fallback) for e in corpus.exceptions]
    page = _values(status, "page", "exceptions", fallback)
    title = page["title"] if page else exceptions_title
    return LocaleCorpus(Corpus.of(documents, list(corpus.models), exceptions), MappingProxyType(fallback), title)
