"""What can be translated: the published text of the policy, cut into units a reader sees as one
clause (a rule's title and text, a section's title and introduction, ...). A unit is shown
translated only when every one of its fields is translated from the current source text;
otherwise the page shows the authoritative text of the whole unit, with a note."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from ..model import Corpus, Document, Origin
from .catalog import EXCEPTIONS_CATALOG

# What each kind of unit is called in messages and notes
KIND_NAMES = {"document": "the title and summary of", "section": "section", "rule": "rule",
              "obligation": "safeguard", "exception": "exception", "page": "the title of the page"}


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # "title", "text", "summary", "intro", "purpose.<rule>.<n>"
    context: str  # the PO msgctxt naming it
    source: str  # the authoritative text
    origin: Origin  # where the source text is written


@dataclass(frozen=True, slots=True)
class Unit:
    kind: str  # "document" | "section" | "rule" | "obligation" | "exception" | "page"
    id: str
    catalog: str  # the catalog (PO file name without .po) that translates it
    fields: tuple[Field, ...]
    origin: Origin

    @property
    def label(self) -> str:
        if self.kind == "document":
            return f"the title and summary of '{self.id}'"
        if self.kind == "page":
            return "the title of the exceptions page"
        return f"{KIND_NAMES[self.kind]} '{self.id}'"


def _field(name: str, context: str, source: str, positions, fallback: Origin) -> Field:
    key = name.split(".")[0] if not name.startswith("purpose") else "permits"
    try:
        origin = positions[key]
    except (KeyError, TypeError):
        origin = fallback
    return Field(name, context, source, origin)


def document_units(doc: Document) -> list[Unit]:
    units = []
    head = [_field("title", "document:title", doc.title, doc.positions, doc.origin)]
    if doc.summary:
        head.append(_field("summary", "document:summary", doc.summary, doc.positions, doc.origin))
    units.append(Unit("document", doc.id, doc.id, tuple(head), doc.origin))
    for ob in doc.obligations:
        fields = [Field("title", f"obligation:{ob.id}:title", ob.title, ob.origin)]
        if ob.text:
            fields.append(Field("text", f"obligation:{ob.id}:text", ob.text, ob.origin))
        units.append(Unit("obligation", ob.id, doc.id, tuple(fields), ob.origin))
    for section in doc.walk_sections():
        fields = [Field("title", f"section:{section.id}:title", section.title, section.origin)]
        if section.intro:
            fields.append(Field("intro", f"section:{section.id}:intro", section.intro, section.origin))
        units.append(Unit("section", section.id, doc.id, tuple(fields), section.origin))
        for rule in section.rules:
            units.append(Unit("rule", rule.id, doc.id, (
                _field("title", f"rule:{rule.id}:title", rule.title, rule.positions, rule.origin),
                _field("text", f"rule:{rule.id}:text", rule.text, rule.positions, rule.origin)), rule.origin))
    return units


def exception_units(corpus: Corpus, settings: Settings) -> list[Unit]:
    """The exceptions page: its title, and each published (active) exception's title, summary
    and purposes."""
    page_origin = Origin("pyproject.toml", 0, 0)
    units = [Unit("page", "exceptions", EXCEPTIONS_CATALOG,
                  (Field("title", "page:exceptions:title", settings.exceptions_title, page_origin),), page_origin)]
    for exc in sorted(corpus.exceptions, key=lambda e: e.id):
        if exc.status != "active":
            continue
        fields = [_field("title", f"exception:{exc.id}:title", exc.title, exc.positions, exc.origin)]
        if exc.summary:
            fields.append(_field("summary", f"exception:{exc.id}:summary", exc.summary, exc.positions, exc.origin))
        for permit in exc.permits:
            for n, purpose in enumerate(permit.purposes, 1):
                fields.append(Field(f"purpose.{permit.rule}.{n}", f"exception:{exc.id}:purpose:{permit.rule}:{n}",
                                    purpose, permit.origin))
        units.append(Unit("exception", exc.id, EXCEPTIONS_CATALOG, tuple(fields), exc.origin))
    return units


def all_units(corpus: Corpus, settings: Settings) -> list[Unit]:
    units: list[Unit] = []
    for doc in corpus.documents:
        units += document_units(doc)
    return units + exception_units(corpus, settings)
