"""The policy model: frozen objects indexed by id, each remembering where it was written.

Built only from files that passed the structural check (see ``validate``), so the builders here
can trust types; cross-file invariants are checked on the finished model.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterator, Mapping

from .facts import in_force
from .load import PosDict, PosList


@dataclass(frozen=True, slots=True)
class Origin:
    """Where something was written: root-relative path, 1-based line and column."""

    path: str
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Obligation:
    id: str
    title: str
    text: str
    document: str
    origin: Origin


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    text: str
    effect: str  # "prohibit" | "require"
    obligations: tuple[str, ...]
    waivable: bool
    effective: dt.date | None
    retired: dt.date | None
    replaced_by: str | None
    document: str
    section: str
    origin: Origin
    positions: Mapping[str, Origin] = field(repr=False, compare=False)
    notice_override: str | None = None  # why a stricter change skips the notice period

    def in_force(self, on: dt.date) -> bool:
        """DESIGN §2 Time: effective <= on < retired (a missing bound is open)."""
        return in_force(self.effective, self.retired, on)


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    intro: str
    rules: tuple[Rule, ...]
    sections: tuple["Section", ...]
    depth: int
    origin: Origin

    def walk(self) -> Iterator["Section"]:
        yield self
        for sub in self.sections:
            yield from sub.walk()


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    title: str
    effective: dt.date
    summary: str
    obligations: tuple[Obligation, ...]
    sections: tuple[Section, ...]
    path: str
    origin: Origin
    positions: Mapping[str, Origin] = field(repr=False, compare=False)

    def walk_sections(self) -> Iterator[Section]:
        for section in self.sections:
            yield from section.walk()

    def rules(self) -> Iterator[Rule]:
        for section in self.walk_sections():
            yield from section.rules


@dataclass(frozen=True, slots=True)
class Model:
    id: str
    name: str
    asl: int
    origin: Origin


@dataclass(frozen=True, slots=True)
class Permit:
    rule: str
    purposes: tuple[str, ...]
    origin: Origin
    rule_origin: Origin


@dataclass(frozen=True, slots=True)
class Exception_:
    """A contractual exception (the trailing underscore avoids shadowing the builtin)."""

    id: str
    title: str
    status: str  # "draft" | "active" | "retired"
    effective: dt.date
    review_by: dt.date | None
    expires: dt.date | None
    customer_types: tuple[str, ...]
    attestations: tuple[str, ...]
    max_asl: int
    permits: tuple[Permit, ...]
    retains: tuple[str, ...]
    summary: str
    path: str
    origin: Origin
    positions: Mapping[str, Origin] = field(repr=False, compare=False)
    contract: str | None = None  # the agreement that grants it (a reference; not published)
    approved_by: tuple[str, ...] = ()  # who approved it (not published)

    def in_force(self, on: dt.date) -> bool:
        return in_force(self.effective, self.expires, on)


@dataclass(frozen=True, slots=True)
class Corpus:
    """Everything in one policy root, indexed by id. Tuples keep source order."""

    documents: tuple[Document, ...]
    models: tuple[Model, ...]
    exceptions: tuple[Exception_, ...]
    rules: Mapping[str, Rule]
    sections: Mapping[str, Section]
    obligations: Mapping[str, Obligation]
    models_by_id: Mapping[str, Model]
    exceptions_by_id: Mapping[str, Exception_]
    documents_by_id: Mapping[str, Document]
    # what is worked out from the whole model once and then shared by every page that needs it
    # (render/views.Links.of): filled on demand; never compared or shown
    derived: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, documents, models, exceptions) -> "Corpus":
        """Index the parts; the first of two equal ids wins (validation reports the clash)."""
        rules: dict[str, Rule] = {}
        sections: dict[str, Section] = {}
        obligations: dict[str, Obligation] = {}
        for doc in documents:
            for ob in doc.obligations:
                obligations.setdefault(ob.id, ob)
            for section in doc.walk_sections():
                sections.setdefault(section.id, section)
                for rule in section.rules:
                    rules.setdefault(rule.id, rule)
        return cls(
            documents=tuple(documents), models=tuple(models), exceptions=tuple(exceptions),
            rules=MappingProxyType(rules), sections=MappingProxyType(sections),
            obligations=MappingProxyType(obligations),
            models_by_id=MappingProxyType({m.id: m for m in reversed(models)}),
            exceptions_by_id=MappingProxyType({e.id: e for e in reversed(exceptions)}),
            documents_by_id=MappingProxyType({d.id: d for d in reversed(documents)}),
        )

    @property
    def version(self) -> dt.date | None:
        """The policy set's version: the latest effective date of its documents."""
        return max((d.effective for d in self.documents), default=None)


# --- builders: PosDict (already structurally valid) -> model objects -----------------------------

def _origin(path: str, pos: tuple[int, int]) -> Origin:
    return Origin(path, pos[0], pos[1])


def _date(text) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


class Positions(Mapping[str, Origin]):
    """Where each field of one mapping was written: keys 'field', 'field[i]' (list items) and
    'field.sub' (one level down). Origins are made on demand, since most are never asked for."""

    __slots__ = ("_path", "_data")

    def __init__(self, path: str, data: PosDict):
        self._path = path
        self._data = data

    def __getitem__(self, key: str) -> Origin:
        data = self._data
        head, dot, sub = key.partition(".")
        if dot:
            inner = data.get(head)
            if isinstance(inner, PosDict) and sub in inner.value_pos:
                return Origin(self._path, *inner.value_pos[sub])
            raise KeyError(key)
        name, bracket, index = key.partition("[")
        if bracket:
            items = data.get(name)
            i = int(index.rstrip("]"))
            if isinstance(items, PosList) and 0 <= i < len(items.item_pos):
                return Origin(self._path, *items.item_pos[i])
            raise KeyError(key)
        return Origin(self._path, *data.value_pos[key])

    def __iter__(self):
        return iter(self._data.value_pos)

    def __len__(self) -> int:
        return len(self._data.value_pos)


def _positions(path: str, data: PosDict) -> Positions:
    return Positions(path, data)


def build_document(path: str, data: PosDict) -> Document:
    doc_id = data["id"]
    obligations = tuple(
        Obligation(o["id"], o["title"], o.get("text", ""), doc_id, _origin(path, pos))
        for o, pos in zip(data.get("obligations", ()), getattr(data.get("obligations"), "item_pos", ()))
    )
    sections = tuple(_build_section(path, doc_id, s, pos, 1)
                     for s, pos in zip(data["sections"], data["sections"].item_pos))
    return Document(doc_id, data["title"], dt.date.fromisoformat(data["effective"]), data.get("summary", ""),
                    obligations, sections, path, _origin(path, data.pos), _positions(path, data))


def build_rule(path: str, doc_id: str, section_id: str, r: PosDict, rpos: tuple[int, int]) -> Rule:
    return Rule(
        id=r["id"], title=r["title"], text=r["text"], effect=r.get("effect", "prohibit"),
        obligations=tuple(r.get("obligations", ())), waivable=r.get("waivable", False),
        effective=_date(r.get("effective")), retired=_date(r.get("retired")),
        replaced_by=r.get("replaced_by"), document=doc_id, section=section_id,
        origin=_origin(path, rpos), positions=_positions(path, r),
        notice_override=r.get("notice_override"),
    )


def _build_section(path: str, doc_id: str, data: PosDict, pos, depth: int) -> Section:
    rules_data = data.get("rules", ())
    rules = tuple(build_rule(path, doc_id, data["id"], r, rpos)
                  for r, rpos in zip(rules_data, getattr(rules_data, "item_pos", ())))
    subs_data = data.get("sections", ())
    subs = tuple(_build_section(path, doc_id, s, spos, depth + 1)
                 for s, spos in zip(subs_data, getattr(subs_data, "item_pos", ())))
    return Section(data["id"], data["title"], data.get("intro", ""), rules, subs, depth, _origin(path, pos))


def build_models(path: str, data: PosDict) -> list[Model]:
    return [Model(m["id"], m["name"], m["asl"], _origin(path, pos))
            for m, pos in zip(data["models"], data["models"].item_pos)]


def build_exception(path: str, data: PosDict) -> Exception_:
    eligibility = data["eligibility"]
    permits = tuple(Permit(p["rule"], tuple(p["purposes"]), _origin(path, pos),
                           _origin(path, p.value_pos["rule"]))
                    for p, pos in zip(data["permits"], data["permits"].item_pos))
    return Exception_(
        id=data["id"], title=data["title"], status=data["status"],
        effective=dt.date.fromisoformat(data["effective"]), review_by=_date(data.get("review_by")),
        expires=_date(data.get("expires")), customer_types=tuple(eligibility["customer_types"]),
        attestations=tuple(eligibility.get("attestations", ())), max_asl=data["models"]["max_asl"],
        permits=permits, retains=tuple(data.get("retains", ())), summary=data.get("summary", ""),
        path=path, origin=_origin(path, data.pos), positions=_positions(path, data),
        contract=data.get("contract"), approved_by=tuple(data.get("approved_by", ())),
    )
