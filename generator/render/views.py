"""View models: what each page shows, computed once from the model, used by both the HTML and the
Markdown templates (so the two outputs cannot disagree)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..config import Settings
from ..gitinfo import SourceRevision
from ..model import Corpus, Document, Exception_, Rule, Section

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def long_date(day: dt.date | None) -> str:
    """'6 June 2024': locale-independent, so builds are identical everywhere."""
    return "" if day is None else f"{day.day} {MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """What every page shows in its header and footer."""

    settings: Settings
    revision: SourceRevision
    version: dt.date | None
    documents: tuple[tuple[str, str], ...]  # (id, title) in order, for navigation; () past NAV_LIMIT
    exceptions_title: str


# Up to this many documents, every page's navigation lists them all; beyond it the navigation
# links to the list of policies (the home page) and names the current document only, so that a
# page's size and cost never grow with the number of documents on the site.
NAV_LIMIT = 8


class Links:
    """Where every id lives, and hrefs between pages (relative, so the site works under any path)."""

    def __init__(self, corpus: Corpus):
        self.page_of: dict[str, str] = {}
        for doc in corpus.documents:
            for ob in doc.obligations:
                self.page_of[ob.id] = doc.id
            for section in doc.walk_sections():
                self.page_of[section.id] = doc.id
                for rule in section.rules:
                    self.page_of[rule.id] = doc.id
        self.relaxed_by: dict[str, list[str]] = {}
        for exc in corpus.exceptions:
            if exc.status == "active":
                for permit in exc.permits:
                    self.relaxed_by.setdefault(permit.rule, []).append(exc.id)

    @classmethod
    def of(cls, corpus: Corpus) -> "Links":
        """The links of ``corpus``, made once per model: a site with history has a version page
        per document version, and each made its own from the whole policy."""
        links = corpus.derived.get(cls)
        if links is None:
            links = corpus.derived[cls] = cls(corpus)
        return links

    def href(self, anchor: str, from_page: str | None, root: str = "../") -> str:
        """``from_page``: the document id of the page the link is on (None for other pages);
        ``root``: the relative path from that page to the site root ('', '../', '../../../')."""
        page = self.page_of.get(anchor)
        if page is None or page == from_page:
            return "#" + anchor
        return f"{root}{page}/#{anchor}"

    def md_href(self, anchor: str, from_page: str | None) -> str:
        page = self.page_of.get(anchor)
        if page is None or page == from_page:
            return "#" + anchor
        return f"{page}.md#{anchor}"


@dataclass(frozen=True, slots=True)
class RuleView:
    rule: Rule
    level: int  # heading level
    obligations: tuple[tuple[str, str], ...]  # (id, title)
    relaxed_by: tuple[str, ...]
    status: str  # "" | "scheduled" | "retired"
    status_text: str


@dataclass(frozen=True, slots=True)
class SectionView:
    section: Section
    level: int
    rules: tuple[RuleView, ...]
    sections: tuple["SectionView", ...]


def document_view(doc: Document, corpus: Corpus, links: Links, gettext=None,
                  date=long_date) -> tuple[SectionView, ...]:
    """``gettext`` and ``date``: how a locale's pages word the status of a rule (see i18n.py)."""
    _ = gettext or (lambda text: text)

    def rule_view(rule: Rule, level: int) -> RuleView:
        status, text = "", ""
        if rule.retired is not None and rule.retired <= doc.effective:
            status, text = "retired", _("Retired on %(date)s") % {"date": date(rule.retired)}
        elif rule.retired is not None:
            status, text = "", _("In force until %(date)s") % {"date": date(rule.retired)}
        if rule.effective is not None and rule.effective > doc.effective:
            status, text = "scheduled", _("Takes effect on %(date)s") % {"date": date(rule.effective)}
        obligations = tuple((o, corpus.obligations[o].title if o in corpus.obligations else o)
                            for o in rule.obligations)
        return RuleView(rule, min(level, 6), obligations, tuple(links.relaxed_by.get(rule.id, ())), status, text)

    def section_view(section: Section, level: int) -> SectionView:
        return SectionView(section, level, tuple(rule_view(r, level + 1) for r in section.rules),
                           tuple(section_view(s, level + 1) for s in section.sections))

    return tuple(section_view(s, 2) for s in doc.sections)


@dataclass(frozen=True, slots=True)
class ExceptionView:
    exception: Exception_
    permits: tuple[tuple[str, str, tuple[str, ...]], ...]  # (rule id, rule title, purposes)
    retains: tuple[tuple[str, str], ...]  # (rule id, rule title)
    models: tuple[tuple[str, str, int], ...]  # covered models: (id, name, asl)


def published_exceptions(corpus: Corpus) -> tuple[ExceptionView, ...]:
    """Active exceptions only (drafts and retired ones are not published), in id order."""
    def title(rule_id: str) -> str:
        rule = corpus.rules.get(rule_id)
        return rule.title if rule else rule_id

    out = []
    for exc in sorted(corpus.exceptions, key=lambda e: e.id):
        if exc.status != "active":
            continue
        out.append(ExceptionView(
            exc,
            tuple((p.rule, title(p.rule), p.purposes) for p in exc.permits),
            tuple((r, title(r)) for r in exc.retains),
            tuple((m.id, m.name, m.asl) for m in corpus.models if m.asl <= exc.max_asl),
        ))
    return tuple(out)


MATRIX_MAX_COLUMNS = 25


@dataclass(frozen=True, slots=True)
class MatrixRow:
    rule: str
    title: str
    waivable: bool
    relaxed_by: tuple[str, ...]  # exception ids, in column order
    retained_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MatrixView:
    """Which exception relaxes (or explicitly retains) which rule.

    Rows: every waivable rule, and every rule an exception names. As a grid when there are at
    most MATRIX_MAX_COLUMNS exceptions; beyond that a grid would be unreadable (and huge), so
    each row lists its exceptions instead."""

    exceptions: tuple[tuple[str, str], ...]  # (id, title), the columns
    rows: tuple[MatrixRow, ...]
    grid: bool
    never_relaxed: int


def matrix_view(corpus: Corpus, published: tuple[ExceptionView, ...]) -> MatrixView:
    relaxed: dict[str, list[str]] = {}
    retained: dict[str, list[str]] = {}
    for view in published:
        for rule_id, _, _ in view.permits:
            relaxed.setdefault(rule_id, []).append(view.exception.id)
        for rule_id, _ in view.retains:
            retained.setdefault(rule_id, []).append(view.exception.id)
    rows = tuple(
        MatrixRow(rule.id, rule.title, rule.waivable, tuple(relaxed.get(rule.id, ())), tuple(retained.get(rule.id, ())))
        for doc in corpus.documents for rule in doc.rules()
        if rule.waivable or rule.id in relaxed or rule.id in retained
    )
    columns = tuple((v.exception.id, v.exception.title) for v in published)
    never = sum(1 for r in corpus.rules.values() if r.effect == "prohibit" and not r.waivable)
    return MatrixView(columns, rows, len(columns) <= MATRIX_MAX_COLUMNS, never)


def site_info(corpus: Corpus, settings: Settings, revision: SourceRevision,
              exceptions_title: str | None = None) -> SiteInfo:
    documents = tuple((d.id, d.title) for d in corpus.documents) if len(corpus.documents) <= NAV_LIMIT else ()
    return SiteInfo(settings, revision, corpus.version, documents,
                    exceptions_title if exceptions_title is not None else settings.exceptions_title)
