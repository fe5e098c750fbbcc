"""Pages of the site: each page is a path, a fingerprint of everything it shows, and a function
that renders it. Jinja2 (autoescape, StrictUndefined) for HTML; the same views for Markdown."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable, Mapping

import jinja2
import markupsafe
import orjson

from .. import __version__
from ..cachedir import tool_cache
from ..config import Settings
from ..due import calendar_items
from ..gitinfo import SourceRevision
from ..model import Corpus, Document
from ..resources import read_resource, resource
from . import markdown as md
from .calendar import calendar_ics
from . import compiled, marks, pdfcache, xmltext
from .lazy import Lazy
from .i18n import date_formatter, gettext_for, interface_digest
from .pdf import begin as begin_pdf, css_string, pdf_name, prepare_here as prepare_pdf, to_pdf, weasyprint_version
from .views import (Links, document_view, long_date, matrix_view, published_exceptions, site_info)



@dataclass(frozen=True, slots=True)
class Page:
    path: str  # relative to the site root, '/'-separated
    fingerprint: str  # changes whenever anything shown on the page changes
    render: Callable[[], bytes]
    gather: Callable[[], None] | None = None  # loads what render needs (history), before any page renders
    same_as: str | None = None  # another page with the very same bytes: written once, then copied
    start: Callable[[], Callable[[], bytes]] | None = None  # begins rendering elsewhere; returns the wait
    whole: bool = False  # made from the whole policy (its cost grows with the site): rendered first when shared out
    search: str = ""  # the language of the search index the page goes in (see search.py); "": not indexed
    # fingerprinted from its inputs, which change more often than its bytes (data.json): when it
    # is rendered with the very bytes the live site has, the live file is kept (its time and
    # inode too: hosts make ETags of them, and services would download the same bundle again)
    keep_same: bool = False


def _resolve(context: dict) -> dict:
    return {k: (v() if isinstance(v, Lazy) else v) for k, v in context.items()}


_DIGEST_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _digest(*parts: object) -> str:
    """A page's fingerprint from what it shows (orjson: the same bytes for the same values): the
    first 128 bits of a SHA-256, in hex (ample to tell versions of a page apart; every page's is
    kept in .buildinfo, so its length is part of the site's size)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else orjson.dumps(part, default=str, option=_DIGEST_OPTIONS))
        h.update(b"\0")
    return h.hexdigest()[:32]


@cache
def templates_digest() -> str:
    """Changes when any template or asset changes, so cached pages are never stale."""
    h = hashlib.sha256(__version__.encode())
    for folder in ("templates", "assets"):
        for entry in sorted(resource(__package__, folder).iterdir(), key=lambda p: p.name):
            h.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return h.hexdigest()


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja2's compiled templates, kept between builds (compiling them took 0.1 s of every
    rebuild): in a folder of the tool's own, named after its version and its templates' digest
    (see cachedir.tool_cache); Jinja2 checks each template's source checksum too. A cache that
    cannot be read or written is no cache: the template is compiled, the build goes on."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder))
        self.folder = folder

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - damaged or unreadable: compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


class _Environment(jinja2.Environment):
    """Jinja2's environment, with the templates compiled and run as render/compiled.py says."""

    code_generator_class = compiled.Generator
    context_class = compiled.Context


def _environment(autoescape: bool) -> jinja2.Environment:
    """One environment per output kind, for every language: a page's language comes with its
    context (interface_context), so each template is compiled once per build, not per locale."""
    resource(__package__, "templates")  # PackagingError, naming it, when the templates are missing
    env = _Environment(
        loader=jinja2.PackageLoader("generator.render", "templates"),
        autoescape=autoescape, undefined=jinja2.StrictUndefined,
        trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True,
        bytecode_cache=_TemplateCache(tool_cache(
            f"templates-{__version__}-{templates_digest()[:16]}-{compiled.VERSION}-"
            f"{'html' if autoescape else 'text'}")),
    )

    @jinja2.pass_context
    def date_filter(ctx, day):
        return ctx["_long_date"](day)

    env.filters["long_date"] = date_filter
    env.filters["md_escape"] = md.escape_inline

    @jinja2.pass_context
    def markdown_filter(ctx, text: str, page):
        """HTML without the renderer's final line break: the template places the lines."""
        links: Links = ctx["links"]
        root = ctx.get("root", "../")
        return markupsafe.Markup(md.to_html(text, lambda anchor: links.href(anchor, page, root)).rstrip("\n"))

    @jinja2.pass_context
    def md_links(ctx, text: str, page):
        links: Links = ctx["links"]
        return md.rewrite_anchor_links(text, lambda anchor: links.md_href(anchor, page))

    env.filters["markdown"] = markdown_filter
    env.filters["md_links"] = md_links
    env.filters["css_string"] = lambda text: markupsafe.Markup(css_string(text))
    env.globals["generator_version"] = __version__
    env.globals.update(src_attrs=marks.src_attrs, src_text=marks.src_text,
                       translation_note=marks.translation_note, md_note=marks.md_note)
    return env


@cache
def html_environment() -> jinja2.Environment:
    return _environment(True)


@cache
def text_environment() -> jinja2.Environment:
    return _environment(False)


_NAMED_FIELDS = re.compile(r"(?:[^%]|%%|%\([^()]*\)s)*")


@functools.lru_cache(maxsize=64)
def interface_context(code: str | None, ui: tuple, autoescape: bool) -> dict:
    """What a template needs to speak a language: ``_`` (the page's interface text, as
    Jinja2's newstyle gettext: ``_("Version of %(date)s", date=...)``) and the long date format.
    ``code``: None for the authoritative language (the templates' own words); ``ui``: the site's
    interface translations (translations/<code>/site.po) as sorted pairs. In HTML a translation is
    text, never markup: escaped, then filled with the values (escaped unless already markup)."""
    translate = gettext_for(code, dict(ui))
    # each text is translated (and escaped) once per build, not once per use: the exceptions page
    # of 5,000 exceptions asked 59,000 times for a dozen texts; % runs only with values, or on a
    # text that holds a %, which % makes "%%" into
    # In HTML, a text whose only fields are %(name)s is filled with the values escaped by
    # compiled.escape_output, as text: what Markup's % gives, without its helper objects.
    done: dict[str, tuple[str, bool]] = {}
    escape = markupsafe.escape if autoescape else str

    def gettext(text: str, **values):
        entry = done.get(text)
        if entry is None:
            said = escape(translate(text))
            entry = done[text] = (said, autoescape and _NAMED_FIELDS.fullmatch(said) is not None)
        said, named = entry
        if values:
            if named:
                return markupsafe.Markup(str.__mod__(said, {k: compiled.escape_output(v) for k, v in values.items()}))
            return said % values
        return said % values if "%" in said else said
    return {"_": gettext, "_long_date": date_formatter(code, long_date)}


def warm_templates() -> None:
    """Compile the templates before pages are shared out between processes (each would compile
    them again)."""
    for env in (html_environment(), text_environment()):
        for name in env.list_templates():
            if not name.startswith("."):
                env.get_template(name)


def asset_bytes(name: str) -> bytes:
    return read_resource(__package__, "assets", name)


@dataclass(frozen=True, slots=True)
class Tree:
    """One language's copy of the pages that are translated (home, documents, exceptions, and
    their Markdown twins): the authoritative one at the site root, each locale under /<code>/."""

    prefix: str  # "" or "de/"
    code: str | None  # None: the authoritative language
    lang: str
    dir: str
    name: str  # the language's own name, for the switcher
    corpus: Corpus
    fallback: Mapping[str, str]  # "<kind>:<id>" -> "stale" | "missing"
    exceptions_title: str
    ui: tuple  # the site's interface translations (sorted pairs)
    digest: str  # what the tree's pages show besides the sources (catalogs, interface text)


def language_trees(corpus: Corpus, settings: Settings, translations=None) -> list[Tree]:
    """The authoritative tree, then one per locale (translations: translate.Translations)."""
    from ..translate.apply import localize
    from ..translate.status import language_names

    _english, native, direction = language_names(settings.language) if translations else ("", "", "ltr")
    trees = [Tree("", None, settings.language, direction, native, corpus, {}, settings.exceptions_title, (), "")]
    for status in (translations.locales if translations else ()):
        view = localize(corpus, status, settings.exceptions_title)
        ui = tuple(sorted(status.ui.items()))
        digest = _digest(status.code, sorted(status.digests.items()), interface_digest(status.code, status.ui))
        trees.append(Tree(f"{status.code}/", status.code, status.code, status.direction, status.native_name,
                          view.corpus, view.fallback, view.exceptions_title, ui, digest))
    return trees


def plan_pages(corpus: Corpus, settings: Settings, revision: SourceRevision,
               digests: dict[str, str], signing=None, history=None, translations=None) -> list[Page]:
    """Every page of the site, with fingerprints; nothing is rendered yet."""
    trees = language_trees(corpus, settings, translations)
    info = site_info(corpus, settings, revision)
    links = Links.of(corpus)
    common = _digest(templates_digest(), repr(settings), revision.label, str(info.version),
                     info.documents, info.exceptions_title)
    base = settings.base_url
    source = trees[0]
    source_names = {}
    pages: list[Page] = []

    def html_page(path: str, template: str, root: str, current: str, tree: Tree = source, site_root: str = "",
                  info=info, links=links, alternates_of: str | None = None, **context) -> Callable[[], bytes]:
        def render() -> bytes:
            canonical = (base + path[: -len("index.html")]) if base and path.endswith("index.html") else ""
            up = site_root or root
            values = {"info": info, "links": links, "root": root, "site_root": up, "current": current,
                      "canonical": canonical, "lang": tree.lang, "dir": tree.dir, "fallback": tree.fallback,
                      "source_lang": source.lang, "source_dir": source.dir,
                      "source_name": _source_name(tree), "source_native": source.name,
                      "alternates": _alternates(trees, tree, alternates_of, up, base),
                      "authoritative_href": f"{up}{alternates_of}" if tree.code and alternates_of is not None else ""}
            if not tree.fallback:
                values.update(marks.NO_FALLBACK)
            values.update(_resolve(context))
            values.update(interface_context(tree.code, tree.ui, True))
            return html_environment().get_template(template).render(**values).encode("utf-8")
        return render

    def pdf_page(path: str, template: str, root: str, fingerprint: str, heading, version_date, revision: str,
                 web_path: str, links=links, **context) -> Page:
        """The PDF of a page (see pdf.py). ``heading`` and ``links`` may be Lazy (a past version's
        sources load only if the PDF is rendered); ``web_path``: the page it prints, for its address."""
        date = long_date(version_date) if version_date else ""
        folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""

        def html() -> str:
            title = str(heading() if isinstance(heading, Lazy) else heading)
            version_line = (f"Version of {date}. " if date else "") + f"Revision {revision}."
            values = {"info": info, "links": links() if isinstance(links, Lazy) else links, "root": root,
                      "lang": source.lang, "dir": source.dir, "pdf_title": f"{title} ({date})" if date else title,
                      "pdf_heading": title, "version_line": version_line,
                      "footer": " · ".join(x for x in (title, f"Version of {date}" if date else "",
                                                       f"revision {revision}") if x),
                      "web_address": (base + web_path) if base else ""}
            values.update(_resolve(context))
            values.update(interface_context(None, (), True))
            return html_environment().get_template(template).render(**values)

        address = (base + folder) if base else None
        key = _digest(fingerprint, "pdf", weasyprint_version(), date, revision)

        def start() -> Callable[[], bytes]:
            kept = pdfcache.active()
            data = kept.get(key) if kept is not None else None
            if data is not None:
                return lambda: data
            wait = begin_pdf(html, address)

            def done() -> bytes:
                made = wait()
                if kept is not None:
                    kept.put(key, made)
                return made
            return done

        return Page(path, key, lambda: start()(), prepare_pdf, start=start)

    def _source_name(tree: Tree) -> str:
        if tree.code is None:
            return ""
        if tree.code not in source_names:
            from babel import Locale
            source_names[tree.code] = Locale.parse(source.lang, sep="-").get_display_name(
                Locale.parse(tree.code, sep="-")) or source.lang
        return source_names[tree.code]

    def text_page(template: str, tree: Tree = source, info=info, links=links, **context) -> Callable[[], bytes]:
        plain = {} if tree.fallback else marks.NO_FALLBACK
        return lambda: text_environment().get_template(template).render(
            info=info, links=links, fallback=tree.fallback, source_name=_source_name(tree), **plain,
            **interface_context(tree.code, tree.ui, False), **_resolve(context)).encode("utf-8")

    timeline = history.timeline if history is not None else None
    for tree in trees:
        pages += _tree_pages(tree, trees, settings, revision, digests, common, timeline, html_page, text_page,
                             pdf_page if settings.pdf and tree.code is None else None)

    published = published_exceptions(corpus)
    matrix = matrix_view(corpus, published)
    matrix_fp = _digest(common, matrix.exceptions, [(r.rule, r.title, r.waivable, r.relaxed_by, r.retained_by,
                                                      links.page_of.get(r.rule)) for r in matrix.rows])
    pages.append(Page("matrix/index.html", matrix_fp,
                      html_page("matrix/index.html", "matrix.html", "../", "matrix", matrix=matrix,
                                page_title="Exceptions by rule", markdown_twin=""), whole=True))
    pages.append(Page("404.html", common, html_page("404.html", "404.html", "/" if not base else base, "",
                                                    page_title="Page not found", markdown_twin="")))
    pages.append(Page("assets/style.css", templates_digest(), lambda: asset_bytes("style.css")))
    if settings.search:
        pages.append(Page("assets/search.js", templates_digest(), lambda: asset_bytes("search.js")))
    sitemap_fp = _digest(common, base, [(d.id, str(d.effective)) for d in corpus.documents],
                         [tree.prefix for tree in trees])
    pages.append(Page("sitemap.xml", sitemap_fp, lambda: sitemap(corpus, settings, [t.prefix for t in trees]),
                      whole=True))
    dates = calendar_items(corpus)
    stamp = calendar_stamp(revision)
    calendar_fp = _digest(__version__, settings.organization, base, stamp.isoformat(),
                          [(d.day.isoformat(), d.kind, d.subject, d.title, d.summary, d.page) for d in dates])
    pages.append(Page("calendar.ics", calendar_fp,
                      lambda: calendar_ics(dates, settings.organization, base, stamp), whole=True))
    pages += bundle_pages(corpus, settings, revision, signing, digests)
    if history is not None:
        from .history_pages import history_pages

        pages += history_pages(history, corpus, settings, html_page, _digest, common, Page,
                               pdf_page if settings.pdf else None)
        if settings.pdf and timeline is not None and not revision.dirty:
            pages = _current_pdfs_from_versions(pages, timeline, corpus)
    return pages


def _current_pdfs_from_versions(pages: list[Page], timeline, corpus: Corpus) -> list[Page]:
    """When the sources are committed, the current PDF of a page is the PDF of its newest
    version (the same text, the same commit): made once, and copied to the stable address
    (usage-policy.pdf)."""
    from ..history.versions import EXCEPTIONS_PAGE

    by_path = {page.path: page for page in pages}
    replaced: dict[str, Page] = {}
    for page_id, versions in timeline.versions.items():
        current = pdf_name(page_id)
        if current not in by_path or not versions:
            continue
        if page_id != EXCEPTIONS_PAGE:
            doc = corpus.documents_by_id.get(page_id)
            if doc is None or versions[-1].effective != doc.effective:
                continue
        newest = versions[-1]
        primary = by_path.get(f"versions/{page_id}/{newest.label}/{pdf_name(page_id, newest.label)}")
        if primary is not None:
            replaced[current] = Page(current, primary.fingerprint, primary.render, None, same_as=primary.path)
    return [replaced.get(page.path, page) for page in pages]


def _alternates(trees: list[Tree], tree: Tree, path: str | None, site_root: str, base: str) -> list[dict]:
    """hreflang links and the language switcher of a page that exists in every language tree
    (``path``: its address relative to a tree's root, "" for the home page)."""
    if path is None or len(trees) < 2:
        return []
    return [{"code": t.lang, "name": t.name, "current": t is tree,
             "href": (base + t.prefix + path) if base else f"{site_root}{t.prefix}{path}" or "./",
             "link": f"{site_root}{t.prefix}{path}" or "./"} for t in trees]


def _tree_pages(tree: Tree, trees: list[Tree], settings: Settings, revision: SourceRevision, digests: dict[str, str],
                common: str, timeline, html_page, text_page, pdf_page=None) -> list[Page]:
    """The home page, the document pages and the exceptions page of one language tree."""
    corpus, prefix = tree.corpus, tree.prefix
    up = "../" if prefix else ""  # from the tree's root to the site's
    info = site_info(corpus, settings, revision, tree.exceptions_title)
    links = Links.of(corpus)
    gettext = gettext_for(tree.code, dict(tree.ui)) if tree.code else None
    date = date_formatter(tree.code, long_date)
    common = _digest(common, tree.digest, info.documents, info.exceptions_title, sorted(tree.fallback.items()),
                     [t.prefix for t in trees])
    where = {"tree": tree, "info": info, "links": links}
    pages: list[Page] = []
    for doc in corpus.documents:
        deps = _document_dependencies(doc, corpus, links)
        banner = _scheduled_banner(timeline, doc, gettext, date)
        fp = _digest(common, digests.get(doc.path, ""), deps, banner, doc.title, doc.summary)
        sections = Lazy(functools.partial(document_view, doc, corpus, links, gettext, date))
        path = f"{prefix}{doc.id}/index.html"
        pdf = pdf_name(doc.id) if pdf_page is not None else ""
        pages.append(Page(path, fp, html_page(path, "document.html", "../", doc.id, site_root="../" + up,
                                              alternates_of=f"{doc.id}/", doc=doc, sections=sections,
                                              page_title=doc.title, markdown_twin=f"../{doc.id}.md",
                                              version_banner=banner, searchable=True,
                                              pdf_link=f"../{pdf}" if pdf else "", **where), search=tree.lang))
        pages.append(Page(f"{prefix}{doc.id}.md", fp, text_page("document.md", doc=doc, sections=sections, **where)))
        if pdf_page is not None:
            pages.append(pdf_page(pdf, "pdf_document.html", "", fp, doc.title, doc.effective, revision.label,
                                  f"{doc.id}/", doc=doc, sections=sections))

    published = published_exceptions(corpus)
    referenced = sorted({p[0] for v in published for p in v.permits} | {r[0] for v in published for r in v.retains})
    exc_fp = _digest(common, sorted(digests.get(e.path, "") for e in corpus.exceptions),
                     [(m.id, m.name, m.asl) for m in corpus.models],
                     [(r, corpus.rules[r].title if r in corpus.rules else "", links.page_of.get(r)) for r in referenced],
                     [(v.exception.title, v.exception.summary, [p[2] for p in v.permits]) for v in published])
    path = f"{prefix}exceptions/index.html"
    pdf = pdf_name("exceptions") if pdf_page is not None else ""
    pages.append(Page(path, exc_fp, html_page(path, "exceptions.html", "../", "exceptions", site_root="../" + up,
                                              alternates_of="exceptions/", exceptions=published,
                                              page_title=info.exceptions_title, markdown_twin="../exceptions.md",
                                              searchable=True, pdf_link=f"../{pdf}" if pdf else "", **where),
                      whole=True, search=tree.lang))
    if pdf_page is not None:
        pages.append(pdf_page(pdf, "pdf_exceptions.html", "", exc_fp, info.exceptions_title, corpus.version,
                              revision.label, "exceptions/", exceptions=published))
    pages.append(Page(f"{prefix}exceptions.md", exc_fp, text_page("exceptions.md", exceptions=published, **where),
                      whole=True))

    rule_counts = {d.id: sum(1 for _ in d.rules()) for d in corpus.documents}
    index_fp = _digest(common, [(d.id, d.title, str(d.effective)) for d in corpus.documents], rule_counts,
                       len(published))
    path = f"{prefix}index.html"
    pages.append(Page(path, index_fp, html_page(path, "index.html", "", "", site_root=up or "", alternates_of="",
                                                documents=corpus.documents, rule_counts=rule_counts,
                                                exception_count=len(published), page_title=_home_title(tree, settings),
                                                markdown_twin="", **where), whole=True))
    return pages


def _home_title(tree: Tree, settings: Settings) -> str:
    gettext = gettext_for(tree.code, dict(tree.ui)) if tree.code else (lambda text: text)
    return gettext("Policies")


def calendar_stamp(revision: SourceRevision) -> dt.datetime:
    """DTSTAMP of calendar.ics: SOURCE_DATE_EPOCH when set, else the commit's time, else the
    epoch (never the clock, so that the same sources give the same bytes)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
    if revision.committed_at is not None:
        return revision.committed_at.astimezone(dt.timezone.utc)
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _scheduled_banner(timeline, doc, gettext=None, date=long_date) -> dict | None:
    """On a document page whose version has not taken effect yet: say when, and what applies."""
    if timeline is None:
        return None
    _ = gettext or (lambda text: text)
    versions = timeline.versions.get(doc.id, [])
    if not versions or versions[-1].effective != doc.effective or versions[-1].status != "scheduled":
        return None
    current = next((v for v in reversed(versions) if v.status == "in force"), None)
    text = _("this version takes effect on %(date)s.") % {"date": date(doc.effective)}
    if current is None:
        return {"label": _("Scheduled"), "text": text, "link": "", "link_text": ""}
    return {"label": _("Scheduled"), "text": text + _(" Until then, the version of %(date)s applies.") % {
                "date": date(current.effective)},
            "link": f"{'../../' if gettext else '../'}versions/{doc.id}/{current.label}/",
            "link_text": _("Read the version in force")}


def bundle_pages(corpus: Corpus, settings: Settings, revision: SourceRevision, signing,
                 digests: Mapping[str, str] | None = None) -> list[Page]:
    """site/bundle/: the OPA bundle, and its data.json, schema and policy unpacked beside it.

    With ``digests`` (the SHA-256 of every source file the corpus was made from), data.json's
    fingerprint comes from what it is made from (those files, the base URL, the revision, this
    version of the tool), and its bytes are made only when it is rendered: 0.05 s per 10,000
    rules that a rebuild no longer spends before its first page."""
    from ..bundle import write as bundle

    version = corpus.version.isoformat() if corpus.version else None
    rego, schema = bundle.policy_rego(), bundle.data_schema()
    key = signing.fingerprint + signing.algorithm + signing.key_id if signing is not None else ""

    @cache
    def data() -> bytes:
        return bundle.data_json(corpus, settings, revision)

    if digests is None:
        data_fp = _digest(data())
    else:
        data_fp = _digest("data.json", __version__, sorted(digests.items()), settings.base_url, revision.commit,
                          revision.dirty)
    archive_fp = _digest(__version__, data_fp, rego, bundle.manifest(revision, version), key)
    return [
        Page(f"bundle/{bundle.ARCHIVE_NAME}", archive_fp, lambda: bundle.archive(data(), revision, version, signing),
             whole=True, keep_same=digests is not None),
        Page("bundle/data.json", data_fp, data, keep_same=digests is not None),
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


def sitemap(corpus: Corpus, settings: Settings, prefixes: list[str] | None = None) -> bytes:
    """sitemap.xml; addresses are absolute when base_url is set (as the protocol requires).
    Every language tree's pages are listed (``prefixes``: "" and "<locale>/")."""
    base = settings.base_url
    version = corpus.version
    entries = []
    for prefix in prefixes or [""]:
        entries.append((prefix, version))
        entries += [(f"{prefix}{d.id}/", d.effective) for d in corpus.documents]
        entries.append((f"{prefix}exceptions/", version))
        if not prefix:
            entries.append(("matrix/", version))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path, day in entries:
        lines.append(f"  <url><loc>{xmltext.text(base + path)}</loc>"
                     + (f"<lastmod>{day.isoformat()}</lastmod>" if day else "") + "</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")
