"""Pages of the site: each page is a path, a fingerprint of everything it shows, and a function
that renders it. Jinja2 (autoescape, StrictUndefined) for HTML; the same views for Markdown."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
from dataclasses import dataclass
from functools import cache
from typing import Callable
from xml.sax.saxutils import escape as xml_escape

import jinja2
import markupsafe
import orjson

from .. import __version__
from ..config import Settings
from ..due import calendar_items
from ..gitinfo import SourceRevision
from ..model import Corpus, Document
from ..resources import read_resource, resource
from . import markdown as md
from .calendar import calendar_ics
from .views import (Links, document_view, long_date, matrix_view, published_exceptions, site_info)



@dataclass(frozen=True, slots=True)
class Page:
    path: str  # relative to the site root, '/'-separated
    fingerprint: str  # changes whenever anything shown on the page changes
    render: Callable[[], bytes]
    gather: Callable[[], None] | None = None  # loads what render needs (history), before any page renders


class Lazy:
    """A value computed at most once, when a page that needs it is actually rendered."""

    __slots__ = ("_fn", "_value", "_done")

    def __init__(self, fn: Callable[[], object]):
        self._fn = fn
        self._value: object = None
        self._done = False

    def __call__(self) -> object:
        if not self._done:
            self._value, self._done = self._fn(), True
        return self._value


def _resolve(context: dict) -> dict:
    return {k: (v() if isinstance(v, Lazy) else v) for k, v in context.items()}


_DIGEST_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _digest(*parts: object) -> str:
    """A page's fingerprint from what it shows (orjson: the same bytes for the same values)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else orjson.dumps(part, default=str, option=_DIGEST_OPTIONS))
        h.update(b"\0")
    return h.hexdigest()


@cache
def templates_digest() -> str:
    """Changes when any template or asset changes, so cached pages are never stale."""
    h = hashlib.sha256(__version__.encode())
    for folder in ("templates", "assets"):
        for entry in sorted(resource(__package__, folder).iterdir(), key=lambda p: p.name):
            h.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return h.hexdigest()


def _environment(autoescape: bool) -> jinja2.Environment:
    resource(__package__, "templates")  # PackagingError, naming it, when the templates are missing
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("generator.render", "templates"),
        autoescape=autoescape, undefined=jinja2.StrictUndefined,
        trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True,
    )
    env.filters["long_date"] = long_date
    env.filters["md_escape"] = md.escape_inline

    @jinja2.pass_context
    def markdown_filter(ctx, text: str, page):
        links: Links = ctx["links"]
        root = ctx.get("root", "../")
        return markupsafe.Markup(md.to_html(text, lambda anchor: links.href(anchor, page, root)))

    @jinja2.pass_context
    def md_links(ctx, text: str, page):
        links: Links = ctx["links"]
        return md.rewrite_anchor_links(text, lambda anchor: links.md_href(anchor, page))

    env.filters["markdown"] = markdown_filter
    env.filters["md_links"] = md_links
    env.globals["generator_version"] = __version__
    return env


@cache
def html_environment() -> jinja2.Environment:
    return _environment(True)


@cache
def text_environment() -> jinja2.Environment:
    return _environment(False)


def asset_bytes(name: str) -> bytes:
    return read_resource(__package__, "assets", name)


def plan_pages(corpus: Corpus, settings: Settings, revision: SourceRevision,
               digests: dict[str, str], signing=None, history=None) -> list[Page]:
    """Every page of the site, with fingerprints; nothing is rendered yet."""
    info = site_info(corpus, settings, revision)
    links = Links(corpus)
    common = _digest(templates_digest(), repr(settings), revision.label, str(info.version),
                     info.documents, info.exceptions_title)
    base = settings.base_url
    pages: list[Page] = []

    def html_page(path: str, template: str, root: str, current: str, **context) -> Callable[[], bytes]:
        def render() -> bytes:
            canonical = (base + path[: -len("index.html")]) if base and path.endswith("index.html") else ""
            values = {"info": info, "links": links, "root": root, "current": current, "canonical": canonical}
            values.update(_resolve(context))
            text = html_environment().get_template(template).render(**values)
            return text.encode("utf-8")
        return render

    def text_page(template: str, **context) -> Callable[[], bytes]:
        return lambda: text_environment().get_template(template).render(info=info, links=links, **_resolve(context)).encode("utf-8")

    timeline = history.timeline if history is not None else None
    for doc in corpus.documents:
        deps = _document_dependencies(doc, corpus, links)
        banner = _scheduled_banner(timeline, doc)
        fp = _digest(common, digests.get(doc.path, ""), deps, banner)
        sections = Lazy(functools.partial(document_view, doc, corpus, links))
        pages.append(Page(f"{doc.id}/index.html", fp,
                          html_page(f"{doc.id}/index.html", "document.html", "../", doc.id, doc=doc,
                                    sections=sections, page_title=doc.title, markdown_twin=f"../{doc.id}.md",
                                    version_banner=banner)))
        pages.append(Page(f"{doc.id}.md", fp, text_page("document.md", doc=doc, sections=sections)))

    published = published_exceptions(corpus)
    referenced = sorted({p[0] for v in published for p in v.permits} | {r[0] for v in published for r in v.retains})
    exc_fp = _digest(common, sorted(digests.get(e.path, "") for e in corpus.exceptions),
                     [(m.id, m.name, m.asl) for m in corpus.models],
                     [(r, corpus.rules[r].title if r in corpus.rules else "", links.page_of.get(r)) for r in referenced])
    pages.append(Page("exceptions/index.html", exc_fp,
                      html_page("exceptions/index.html", "exceptions.html", "../", "exceptions",
                                exceptions=published, page_title=settings.exceptions_title,
                                markdown_twin="../exceptions.md")))
    pages.append(Page("exceptions.md", exc_fp, text_page("exceptions.md", exceptions=published)))

    matrix = matrix_view(corpus, published)
    matrix_fp = _digest(common, matrix.exceptions, [(r.rule, r.title, r.waivable, r.relaxed_by, r.retained_by,
                                                      links.page_of.get(r.rule)) for r in matrix.rows])
    pages.append(Page("matrix/index.html", matrix_fp,
                      html_page("matrix/index.html", "matrix.html", "../", "matrix", matrix=matrix,
                                page_title="Exceptions by rule", markdown_twin="")))

    rule_counts = {d.id: sum(1 for _ in d.rules()) for d in corpus.documents}
    index_fp = _digest(common, [(d.id, d.title, str(d.effective)) for d in corpus.documents], rule_counts,
                       len(published))
    pages.append(Page("index.html", index_fp,
                      html_page("index.html", "index.html", "", "", documents=corpus.documents,
                                rule_counts=rule_counts, exception_count=len(published),
                                page_title="Policies", markdown_twin="")))
    pages.append(Page("404.html", common, html_page("404.html", "404.html", "/" if not base else base, "",
                                                    page_title="Page not found", markdown_twin="")))
    pages.append(Page("assets/style.css", templates_digest(), lambda: asset_bytes("style.css")))
    sitemap_fp = _digest(common, base, [(d.id, str(d.effective)) for d in corpus.documents])
    pages.append(Page("sitemap.xml", sitemap_fp, lambda: sitemap(corpus, settings)))
    dates = calendar_items(corpus)
    stamp = calendar_stamp(revision)
    calendar_fp = _digest(__version__, settings.organization, base, stamp.isoformat(),
                          [(d.day.isoformat(), d.kind, d.subject, d.title, d.summary, d.page) for d in dates])
    pages.append(Page("calendar.ics", calendar_fp,
                      lambda: calendar_ics(dates, settings.organization, base, stamp)))
    pages += bundle_pages(corpus, settings, revision, signing)
    if history is not None:
        from .history_pages import history_pages

        pages += history_pages(history, corpus, settings, html_page, _digest, common, Page)
    return pages


def calendar_stamp(revision: SourceRevision) -> dt.datetime:
    """DTSTAMP of calendar.ics: SOURCE_DATE_EPOCH when set, else the commit's time, else the
    epoch (never the clock, so that the same sources give the same bytes)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
    if revision.committed_at is not None:
        return revision.committed_at.astimezone(dt.timezone.utc)
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _scheduled_banner(timeline, doc) -> dict | None:
    """On a document page whose version has not taken effect yet: say when, and what applies."""
    if timeline is None:
        return None
    versions = timeline.versions.get(doc.id, [])
    if not versions or versions[-1].effective != doc.effective or versions[-1].status != "scheduled":
        return None
    current = next((v for v in reversed(versions) if v.status == "in force"), None)
    text = f"this version takes effect on {long_date(doc.effective)}."
    if current is None:
        return {"label": "Scheduled", "text": text, "link": "", "link_text": ""}
    return {"label": "Scheduled", "text": text + f" Until then, the version of {long_date(current.effective)} applies.",
            "link": f"../versions/{doc.id}/{current.label}/", "link_text": "Read the version in force"}


def bundle_pages(corpus: Corpus, settings: Settings, revision: SourceRevision, signing) -> list[Page]:
    """site/bundle/: the OPA bundle, and its data.json, schema and policy unpacked beside it."""
    from ..bundle import write as bundle

    data = bundle.data_json(corpus, settings, revision)
    version = corpus.version.isoformat() if corpus.version else None
    rego, schema = bundle.policy_rego(), bundle.data_schema()
    key = signing.fingerprint + signing.algorithm + signing.key_id if signing is not None else ""
    archive_fp = _digest(__version__, data, rego, bundle.manifest(revision, version), key)
    return [
        Page(f"bundle/{bundle.ARCHIVE_NAME}", archive_fp, lambda: bundle.archive(data, revision, version, signing)),
        Page("bundle/data.json", _digest(data), lambda: data),
        Page("bundle/data.schema.json", _digest(schema), lambda: schema),
        Page("bundle/policy.rego", _digest(rego), lambda: rego),
    ]


def _document_dependencies(doc: Document, corpus: Corpus, links: Links) -> list:
    """What a document page shows from outside its own file."""
    relaxed, obligations, targets = [], [], set()
    for section in doc.walk_sections():
        targets.update(md.ANCHOR_LINK.findall(section.intro))
        for rule in section.rules:
            if rule.id in links.relaxed_by:
                relaxed.append((rule.id, links.relaxed_by[rule.id]))
            for ob in rule.obligations:
                if ob in corpus.obligations:
                    obligations.append((ob, corpus.obligations[ob].title))
            targets.update(md.ANCHOR_LINK.findall(rule.text))
            if rule.replaced_by:
                targets.add(rule.replaced_by)
    targets.update(md.ANCHOR_LINK.findall(doc.summary))
    return [relaxed, obligations, sorted((t, links.page_of.get(t)) for t in targets)]


def sitemap(corpus: Corpus, settings: Settings) -> bytes:
    """sitemap.xml; addresses are absolute when base_url is set (as the protocol requires)."""
    base = settings.base_url
    version = corpus.version
    entries = [("", version)]
    entries += [(f"{d.id}/", d.effective) for d in corpus.documents]
    entries += [("exceptions/", version), ("matrix/", version)]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path, day in entries:
        lines.append(f"  <url><loc>{xml_escape(base + path)}</loc>"
                     + (f"<lastmod>{day.isoformat()}</lastmod>" if day else "") + "</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")
