"""Pages from git history: versions/ (each version of each page as it read then, rendered with the
current templates), a redline per version against the one before, the version-history page, and
an Atom feed with one entry per version."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Callable

from ..config import Settings
from ..history.changelog import Corpora, page_diff
from ..history.versions import EXCEPTIONS_PAGE, Timeline, Version
from ..model import Corpus
from . import xmltext
from .lazy import Lazy
from .views import Links, document_view, long_date, published_exceptions

STATUS_TEXT = {"in force": "In force", "scheduled": "Scheduled", "superseded": "Superseded"}


@dataclass
class SiteHistory:
    """What the site knows of history: the timeline (None outside git) and a way to load the
    sources at any commit."""

    timeline: Timeline | None
    corpora: Corpora | None
    note: str = ""


def shown_corpus(corpora: Corpora, v: Version) -> Corpus:
    """The sources a version page shows (Corpora.version). Never None: when no commit of the
    version validates as a whole, the page shows its last commit's files as far as they load."""
    return corpora.version(v) or corpora.loaded_anyway(v.last.sha)


def _ordinal(n: int) -> str:
    return {2: "second", 3: "third"}.get(n, f"{n}th")


def version_path(v: Version) -> str:
    return f"versions/{v.page}/{v.label}/"


def _title(page: str, corpus: Corpus | None, settings: Settings) -> str:
    if page == EXCEPTIONS_PAGE:
        return settings.exceptions_title
    doc = corpus.documents_by_id.get(page) if corpus else None
    return doc.title if doc else page


def history_pages(history: SiteHistory, current: Corpus, settings: Settings, html: Callable, digest: Callable,
                  common: str, Page, pdf: Callable | None = None) -> list:
    """``pdf``: the factory of PDF pages (engine.plan_pages), or None when PDFs are off."""
    pages = []
    timeline = history.timeline
    groups = []
    if timeline is not None:
        for page_id, versions in timeline.versions.items():
            rows = []
            for index, v in enumerate(versions):
                previous = versions[index - 1] if index else None
                rows.append({
                    "label": v.label, "date": v.effective.isoformat() if v.effective else "",
                    "date_text": (long_date(v.effective) or "undated") + (
                        f" (again, {_ordinal(v.ordinal)} time)" if v.ordinal > 1 else ""),
                    "status_text": STATUS_TEXT.get(v.status, v.status) + (
                        f" from {long_date(v.effective)}" if v.status == "scheduled" else ""),
                    "published": v.introduced.date.isoformat(), "commit": v.introduced.short,
                    "author": v.introduced.author, "revisions": len(v.revisions), "tags": v.tags,
                    "approved": ", ".join(v.approvals),
                    "href": f"{page_id}/{v.label}/", "changes_href": f"{page_id}/{v.label}/changes/",
                })
                pages += _version_pages(history, v, previous, settings, html, digest, common, Page, pdf)
            groups.append({"page": page_id, "title": _title(page_id, current, settings), "rows": list(reversed(rows))})
    note = history.note or ("" if groups else "No version has been committed yet.")
    fingerprint = digest(common, note, [(g["page"], g["title"], g["rows"]) for g in groups])
    pages.append(Page("versions/index.html", fingerprint,
                      html("versions/index.html", "versions.html", "../", "versions", groups=groups, note=note,
                           page_title="Version history", markdown_twin=""), whole=True))
    pages.append(Page("feed.xml", digest(common, fingerprint, settings.base_url),
                      lambda: feed(timeline, current, settings), whole=True))
    return pages


def _banner(v: Version, title: str) -> dict:
    if v.status == "scheduled":
        text = f"this version of {title} takes effect on {long_date(v.effective)}."
    elif v.status == "superseded":
        text = f"this version of {title}, dated {long_date(v.effective)}, has been replaced."
    else:
        text = f"this version of {title}, dated {long_date(v.effective)}, is in force."
    link = "../../../" + (f"{v.page}/" if v.page != EXCEPTIONS_PAGE else "exceptions/")
    return {"label": STATUS_TEXT.get(v.status, v.status), "text": text, "link": link, "link_text": "Read the current page"}


def _version_pages(history: SiteHistory, v: Version, previous: Version | None, settings: Settings,
                   html: Callable, digest: Callable, common: str, Page, pdf: Callable | None = None) -> list:
    corpora = history.corpora
    assert corpora is not None  # version pages exist only where there is a history
    base = version_path(v)
    key = digest(common, v.page, v.label, v.status, v.last.sha, previous.last.sha if previous else None)

    def corpus() -> Corpus:
        return shown_corpus(corpora, v)

    pdf_file = f"{v.page}-{v.label}.pdf" if pdf is not None else ""

    def render_version() -> bytes:
        c = corpus()
        links = Links.of(c)
        title = _title(v.page, c, settings)
        banner = _banner(v, title)
        if v.page == EXCEPTIONS_PAGE:
            return html(base + "index.html", "exceptions.html", "../../../", "versions", links=links,
                        exceptions=published_exceptions(c), page_title=f"{title} ({v.label})",
                        markdown_twin="", version_banner=banner, pdf_link=pdf_file)()
        doc = c.documents_by_id[v.page]
        return html(base + "index.html", "document.html", "../../../", "versions", links=links, doc=doc,
                    sections=document_view(doc, c, links), page_title=f"{title} ({v.label})",
                    markdown_twin="", version_banner=banner, pdf_link=pdf_file)()

    def render_changes() -> bytes:
        new = corpus()
        old = shown_corpus(corpora, previous) if previous else None
        diff = page_diff(old, new, v.page)
        entries, changed_ids = _entries(diff, old, new)
        total = (sum(1 for _ in new.documents_by_id[v.page].rules()) if v.page != EXCEPTIONS_PAGE
                 else len(new.exceptions))
        unchanged = max(0, total - len(changed_ids))
        title = _title(v.page, new, settings)
        return html(base + "changes/index.html", "redline.html", "../../../../", "versions", links=Links.of(new),
                    title=title, date_text=long_date(v.effective) or v.label,
                    previous_href=f"../../{previous.label}/" if previous else "",
                    previous_text=long_date(previous.effective) if previous else "", this_href="../",
                    entries=entries, unchanged=unchanged, page_title=f"Changes in {title} ({v.label})",
                    markdown_twin="", version_banner=_banner(v, title))()

    def gather() -> None:  # before any page renders: the past sources these two pages show
        shown_corpus(corpora, v)
        if previous is not None:
            shown_corpus(corpora, previous)

    pages = [Page(base + "index.html", key, render_version, gather),
             Page(base + "changes/index.html", key, render_changes, gather)]
    if pdf is not None:
        pages.append(_version_pdf(pdf, v, base + pdf_file, key, corpus, settings, gather))
    return pages


def _version_pdf(pdf: Callable, v: Version, path: str, key: str, corpus: Callable[[], Corpus], settings: Settings,
                 gather: Callable[[], None]):
    """The PDF of one version, as it read then: its date and commit in the footer. Its sources
    are loaded (Lazy) only when it is rendered."""
    shown = Lazy(corpus)
    links = Lazy(lambda: Links.of(shown()))
    heading = Lazy(lambda: _title(v.page, shown(), settings))
    if v.page == EXCEPTIONS_PAGE:
        page = pdf(path, "pdf_exceptions.html", "../../../", key, heading, v.effective, v.last.short,
                   version_path(v), links=links, exceptions=Lazy(lambda: published_exceptions(shown())))
    else:
        doc = Lazy(lambda: shown().documents_by_id[v.page])
        page = pdf(path, "pdf_document.html", "../../../", key, heading, v.effective, v.last.short,
                   version_path(v), links=links, doc=doc, sections=Lazy(lambda: document_view(doc(), shown(), links())))
    prepare = page.gather

    def both() -> None:  # the past sources, then WeasyPrint, before any page renders
        gather()
        if prepare is not None:
            prepare()
    return dataclasses.replace(page, gather=both)


_CLASS_TEXT = {"looser": "Looser", "stricter": "Stricter", "mixed": "Looser and stricter",
               "editorial": "Editorial"}
_KIND_TEXT = {"added": "Added", "removed": "Deleted", "retired": "Retired", "unretired": "Back in force",
              "changed": "Changed", "moved": "Moved", "renamed": "Renamed"}


def _entries(diff: dict, old: Corpus | None, new: Corpus) -> tuple[list[dict], set[str]]:
    entries, ids = [], set()
    for rule in diff["rules"]:
        ids.add(rule["id"])
        entry = {"id": rule["id"], "title": rule.get("title", rule["id"]), "kind": rule["change"],
                 "kind_text": _KIND_TEXT.get(rule["change"], rule["change"]), "notes": [], "texts": [],
                 "class": rule["class"], "class_text": _CLASS_TEXT[rule["class"]]}
        if rule["change"] == "added":
            r = new.rules[rule["id"]]
            entry["texts"].append(("Text", [["+", r.text.strip()]]))
            if r.effective:
                entry["notes"].append(f"In force from {long_date(r.effective)}.")
        elif rule["change"] == "removed" and old is not None:
            entry["texts"].append(("Text", [["-", old.rules[rule["id"]].text.strip()]]))
        if "moved" in rule:
            entry["notes"].append(f"Moved from section {rule['moved']['from']['section']} to "
                                  f"section {rule['moved']['to']['section']}.")
        for name, value in rule.get("fields", {}).items():
            if "words" in value:
                entry["texts"].append((name.capitalize(), value["words"]))
            else:
                entry["notes"].append(_describe(name, value))
        entries.append(entry)
    for exc in diff["exceptions"]:
        ids.add(exc["id"])
        entry = {"id": exc["id"], "title": exc.get("title", exc["id"]), "kind": exc["change"],
                 "kind_text": _KIND_TEXT.get(exc["change"], exc["change"]), "notes": [], "texts": [],
                 "class": exc["class"], "class_text": _CLASS_TEXT[exc["class"]]}
        for name, value in exc.get("fields", {}).items():
            if "words" in value:
                entry["texts"].append((name.capitalize(), value["words"]))
            else:
                entry["notes"].append(_describe(name, value))
        entries.append(entry)
    for section in diff["sections"]:
        if section["change"] == "renamed":
            entries.append({"id": "section-" + section["id"], "title": f"Section {section['id']}", "kind": "renamed",
                            "kind_text": "Renamed", "notes": [f"Now section {section['to']}."], "texts": [],
                            "class": section["class"], "class_text": _CLASS_TEXT[section["class"]]})
    return entries, ids


def _describe(name: str, value: dict) -> str:
    label = name.replace("_", " ").capitalize()
    direction = f" ({value['direction']})" if "direction" in value else ""
    if "added" in value or "removed" in value or "purposes" in value:
        bits = []
        if value.get("added"):
            bits.append("added " + ", ".join(map(str, value["added"])))
        if value.get("removed"):
            bits.append("removed " + ", ".join(map(str, value["removed"])))
        for rule, change in value.get("purposes", {}).items():
            bits.append(f"purposes for {rule}: " + "; ".join(
                [f"added {p}" for p in change["added"]] + [f"removed {p}" for p in change["removed"]]))
        return f"{label}: {'; '.join(bits)}{direction}."
    old = "none" if value["from"] is None else str(value["from"]).lower() if isinstance(value["from"], bool) else value["from"]
    new = "none" if value["to"] is None else str(value["to"]).lower() if isinstance(value["to"], bool) else value["to"]
    return f"{label}: {old} → {new}{direction}."


def feed(timeline: Timeline | None, current: Corpus, settings: Settings) -> bytes:
    """Atom 1.0: one entry per version, newest first; times from git, so builds stay identical."""
    base = settings.base_url
    versions = [v for vs in (timeline.versions.values() if timeline else ()) for v in vs]
    versions.sort(key=lambda v: (v.introduced.committed, v.page), reverse=True)
    updated = max((v.last.committed for v in versions), default=dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))
    lines = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
             f"  <title>{xmltext.text(settings.organization)} policy versions</title>",
             f"  <id>{xmltext.text(base + 'feed.xml') if base else 'urn:policy-versions:' + xmltext.text(settings.organization.lower().replace(' ', '-'))}</id>",
             f"  <updated>{updated.isoformat()}</updated>",
             f'  <link rel="self" href="{xmltext.attr(base)}feed.xml"/>',
             f'  <link href="{xmltext.attr(base)}versions/"/>',
             f"  <author><name>{xmltext.text(settings.organization)}</name></author>"]
    for v in versions:
        title = _title(v.page, current, settings)
        link = f"{base}{version_path(v)}"
        summary = f"{title}: the version of {long_date(v.effective)}" + (
            f" takes effect on {long_date(v.effective)}." if v.effective else ".") + f" Published in commit {v.introduced.short}."
        lines += ["  <entry>",
                  f"    <title>{xmltext.text(title)}: version of {xmltext.text(long_date(v.effective) or v.label)}</title>",
                  f"    <id>urn:policy-version:{xmltext.text(v.page)}:{xmltext.text(v.label)}:{v.introduced.sha[:12]}</id>",
                  f'    <link href="{xmltext.attr(link)}"/>',
                  f'    <link rel="related" href="{xmltext.attr(link)}changes/"/>',
                  f"    <published>{v.introduced.committed.isoformat()}</published>",
                  f"    <updated>{v.last.committed.isoformat()}</updated>",
                  f"    <summary>{xmltext.text(summary)}</summary>",
                  "  </entry>"]
    lines.append("</feed>")
    return ("\n".join(lines) + "\n").encode("utf-8")
