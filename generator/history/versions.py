"""Versions from git history: for each document, and for the exceptions page, every version, the
commit that introduced it, the editorial revisions made under it, and its status.

A document's version is its `effective` date: a commit that changes it starts a new version; a
commit that changes the document otherwise is an editorial revision of the current version. The
exceptions page's version is the latest `effective` date among the exceptions it publishes
(active ones); other changes to exceptions, or to models, are revisions of it.

Work is cached by content: facts about a blob (its document id and date) and the summary of a
change between two blobs are stored under .git/policy-cache/, keyed by blob ids, so a cache
entry can never be stale. A warm `policy history` reads no blob at all."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..load import KIND_DOCUMENT, KIND_EXCEPTION, KIND_MODELS, RawFile
from ..load.files import kind_of
from ..model import Corpus
from .diff import diff_corpora
from .gitrepo import CommitInfo, GitSources

EXCEPTIONS_PAGE = "exceptions"
CACHE_NAME = f"history-{__version__}-1.json"


@dataclass
class Version:
    page: str  # a document id, or "exceptions"
    effective: dt.date | None
    title: str
    introduced: CommitInfo
    revisions: list[CommitInfo] = field(default_factory=list)  # editorial commits under it
    status: str = ""  # "in force" | "scheduled" | "superseded"
    tags: list[str] = field(default_factory=list)

    @property
    def last(self) -> CommitInfo:
        return self.revisions[-1] if self.revisions else self.introduced

    @property
    def label(self) -> str:
        return self.effective.isoformat() if self.effective else "undated"


@dataclass
class Entry:
    commit: CommitInfo
    summary: str
    changes: list[tuple[str, str, str]]  # (page, version label, "new version" | "revision")
    tags: list[str]


@dataclass
class Timeline:
    versions: dict[str, list[Version]]  # page -> versions, oldest first
    entries: list[Entry]  # oldest first
    shallow: bool
    as_of: dt.date

    def newest_first(self) -> list[Entry]:
        return list(reversed(self.entries))


class _Cache:
    def __init__(self, git_dir: Path):
        self.path = git_dir / "policy-cache" / CACHE_NAME
        self.dirty = False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.blobs, self.pairs = data["blobs"], data["pairs"]
        except (OSError, ValueError, KeyError, TypeError):
            self.blobs, self.pairs = {}, {}

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".tmp-{os.getpid()}")
            tmp.write_text(json.dumps({"blobs": self.blobs, "pairs": self.pairs}), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only repository simply goes without a cache


class _Parser:
    """Blobs -> model objects (parsed at most once per run) and cached facts."""

    def __init__(self, sources: GitSources, cache: _Cache):
        self.sources, self.cache = sources, cache
        self.objects: dict[str, object] = {}

    def model(self, path: str, blob: str):
        if blob not in self.objects:
            from ..validate import _file_stage  # per-file parse, check and build

            kind = kind_of(path) or KIND_DOCUMENT
            _found, obj, _refs = _file_stage(RawFile(path, kind, self.sources.blob(blob)))
            self.objects[blob] = obj
        return self.objects[blob]

    def facts(self, path: str, blob: str) -> dict:
        known = self.cache.blobs.get(blob)
        if known is not None:
            return known
        obj = self.model(path, blob)
        kind = kind_of(path)
        if obj is None:
            facts = {"kind": "invalid"}
        elif kind == KIND_DOCUMENT:
            facts = {"kind": "document", "id": obj.id, "effective": obj.effective.isoformat(), "title": obj.title}
        elif kind == KIND_EXCEPTION:
            facts = {"kind": "exception", "id": obj.id, "status": obj.status,
                     "effective": obj.effective.isoformat(), "title": obj.title}
        else:
            facts = {"kind": "models"}
        self.cache.blobs[blob] = facts
        self.cache.dirty = True
        return facts

    def summary(self, path: str, old: str | None, new: str | None) -> str:
        key = f"{old}..{new}"
        known = self.cache.pairs.get(key)
        if known is not None:
            return known
        before = self.model(path, old) if old else None
        after = self.model(path, new) if new else None
        if (old and before is None) or (new and after is None):
            text = f"{path} does not validate here"
        else:
            text = diff_corpora(_corpus(path, before), _corpus(path, after))["summary"]
        self.cache.pairs[key] = text
        self.cache.dirty = True
        return text


def _corpus(path: str, obj) -> Corpus | None:
    if obj is None:
        return None
    kind = kind_of(path)
    if kind == KIND_DOCUMENT:
        return Corpus.of([obj], [], [])
    if kind == KIND_EXCEPTION:
        return Corpus.of([], [], [obj])
    return Corpus.of([], list(obj), [])


def timeline(root: Path, rev: str = "HEAD", as_of: dt.date | None = None) -> Timeline:
    """The versions of the sources under ``root`` along the first-parent history of ``rev``."""
    with GitSources(root) as sources:
        commits = sources.log(rev) if sources.has_commits else []
        tags = sources.tags() if commits else {}
        cache = _Cache(sources.git_dir)
        parser = _Parser(sources, cache)
        state: dict[str, str] = {}
        versions: dict[str, list[Version]] = {}
        entries: list[Entry] = []
        for commit in commits:
            before = dict(state)
            for change in commit.changes:
                if change.new_blob is None:
                    state.pop(change.path, None)
                else:
                    state[change.path] = change.new_blob
            touched = [c for c in commit.changes if kind_of(c.path) is not None]
            if not touched:
                continue
            summaries = [s for path, old, new in _pairs(touched, before, state, parser)
                         if (s := parser.summary(path, old, new)) != "no change to the policy"]
            changes = _version_changes(commit, before, state, touched, parser, versions, tags.get(commit.sha, []))
            entries.append(Entry(commit, "; ".join(summaries) or "no change to the policy", changes,
                                 tags.get(commit.sha, [])))
        cache.save()
        shallow = sources.shallow
    when = as_of or dt.datetime.now(dt.timezone.utc).date()
    for page_versions in versions.values():
        _statuses(page_versions, when)
    return Timeline(versions, entries, shallow, when)


def _pairs(touched, before: dict[str, str], after: dict[str, str], parser: _Parser):
    """(path, old blob, new blob) for each changed source. A document is matched by its id, not
    its path, so a renamed (or split and rejoined) file is compared with itself."""
    out, docs_before, docs_after = [], {}, {}
    for change in touched:
        if kind_of(change.path) != KIND_DOCUMENT:
            out.append((change.path, before.get(change.path), after.get(change.path)))
            continue
        for state, docs in ((before, docs_before), (after, docs_after)):
            blob = state.get(change.path)
            if blob:
                facts = parser.facts(change.path, blob)
                docs[facts.get("id", change.path)] = (change.path, blob)
    for doc_id in sorted(docs_before.keys() | docs_after.keys()):
        old, new = docs_before.get(doc_id), docs_after.get(doc_id)
        path = (new or old)[0]
        out.append((path, old[1] if old else None, new[1] if new else None))
    return out


def _pages(state: dict[str, str], parser: _Parser) -> tuple[dict[str, tuple[str, str]], tuple]:
    """Documents by id -> (effective, title) and the exceptions page's key, for one state."""
    docs: dict[str, tuple[str, str]] = {}
    active: list[str] = []
    for path, blob in state.items():
        kind = kind_of(path)
        if kind == KIND_DOCUMENT:
            facts = parser.facts(path, blob)
            if facts["kind"] == "document":
                docs[facts["id"]] = (facts["effective"], facts["title"])
        elif kind == KIND_EXCEPTION:
            facts = parser.facts(path, blob)
            if facts["kind"] == "exception" and facts["status"] == "active":
                active.append(facts["effective"])
    return docs, (max(active) if active else None)


def _version_changes(commit, before, state, touched, parser, versions, tags) -> list[tuple[str, str, str]]:
    old_docs, old_exc = _pages(before, parser)
    new_docs, new_exc = _pages(state, parser)
    changed_docs = set()
    for c in touched:
        if kind_of(c.path) == KIND_DOCUMENT:
            for blob in (before.get(c.path), state.get(c.path)):
                if blob:
                    facts = parser.facts(c.path, blob)
                    if facts["kind"] == "document":
                        changed_docs.add(facts["id"])
    out = []
    for doc_id in sorted(changed_docs):
        if doc_id not in new_docs:
            continue  # removed: its versions stay in history
        effective, title = new_docs[doc_id]
        page = versions.setdefault(doc_id, [])
        if doc_id not in old_docs or old_docs[doc_id][0] != effective or not page:
            page.append(Version(doc_id, dt.date.fromisoformat(effective), title, commit, tags=list(tags)))
            out.append((doc_id, effective, "new version"))
        else:
            page[-1].revisions.append(commit)
            page[-1].title = title
            page[-1].tags += tags
            out.append((doc_id, effective, "revision"))
    exceptions_touched = any(kind_of(c.path) in (KIND_EXCEPTION, KIND_MODELS) for c in touched)
    if exceptions_touched and (new_exc is not None or versions.get(EXCEPTIONS_PAGE)):
        page = versions.setdefault(EXCEPTIONS_PAGE, [])
        label = new_exc or "undated"
        if new_exc != old_exc or not page:
            page.append(Version(EXCEPTIONS_PAGE, dt.date.fromisoformat(new_exc) if new_exc else None,
                                "Exceptions", commit, tags=list(tags)))
            out.append((EXCEPTIONS_PAGE, label, "new version"))
        else:
            page[-1].revisions.append(commit)
            out.append((EXCEPTIONS_PAGE, label, "revision"))
    return out


def _statuses(page_versions: list[Version], as_of: dt.date) -> None:
    """In force: the version with the latest date that has come (the later-introduced one on a
    tie); scheduled: dates still to come; superseded: the rest."""
    current = None
    for v in page_versions:  # oldest first, so '>=' keeps the later-introduced on a tie
        if v.effective is not None and v.effective <= as_of and (current is None or v.effective >= current.effective):
            current = v
    for v in page_versions:
        if v is current:
            v.status = "in force"
        elif v.effective is not None and v.effective > as_of:
            v.status = "scheduled"
        else:
            v.status = "superseded"
