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
import hashlib
import json
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, cast

from .. import __version__
from ..cachedir import cache_folder
from ..gcpause import paused_collection
from ..load import KIND_DOCUMENT, KIND_EXCEPTION, KIND_MODELS, RawFile
from ..load.files import kind_of
from ..load import PosDict
from ..model import Corpus, Document
from .incremental import Known, remember, update_bytes as read_from_previous
from .diff import diff_corpora
from .gitrepo import Change, CommitInfo, GitSources

EXCEPTIONS_PAGE = "exceptions"
CACHE_FORMAT = 2
CACHE_NAME = f"history-{__version__}-{CACHE_FORMAT}.json"


@dataclass
class Version:
    page: str  # a document id, or "exceptions"
    effective: dt.date | None
    title: str
    introduced: CommitInfo
    revisions: list[CommitInfo] = field(default_factory=list)  # editorial commits under it
    status: str = ""  # "in force" | "scheduled" | "superseded"
    tags: list[str] = field(default_factory=list)
    ordinal: int = 1  # 2 for the second version of this page with the same date (a reverted change), ...

    @property
    def approvals(self) -> list[str]:
        """Who approved it: the "Approved-by:" trailers of its commits, each once, in order."""
        return list(dict.fromkeys(a for c in (self.introduced, *self.revisions) for a in c.approvals))

    @property
    def last(self) -> CommitInfo:
        return self.revisions[-1] if self.revisions else self.introduced

    @property
    def label(self) -> str:
        """The version's name and address: its date, and "-2", "-3" ... when the page came back
        to a date it had before (a revert of a version), so that no two versions share one."""
        base = self.effective.isoformat() if self.effective else "undated"
        return base if self.ordinal == 1 else f"{base}-{self.ordinal}"


@dataclass
class Entry:
    commit: CommitInfo
    summary: str
    changes: list[tuple[str, str, str]]  # (page, version label, "new version" | "revision")
    tags: list[str]
    invalid: str | None = None  # "path:line:col: message": the sources here do not validate


@dataclass
class Timeline:
    versions: dict[str, list[Version]]  # page -> versions, oldest first
    entries: list[Entry]  # oldest first
    shallow: bool
    as_of: dt.date

    def newest_first(self) -> list[Entry]:
        return list(reversed(self.entries))


class _Cache:
    """Facts about blobs and summaries of blob pairs, keyed by blob ids. Never a source of truth:
    the file carries the SHA-256 of its content and the tool version that wrote it, and every
    entry is checked for its shape when read; anything corrupted, truncated, foreign or of
    another version is dropped and recomputed. Written to a temporary file and renamed into
    place, so two builds at once never leave a torn file (the last one wins; both are right)."""

    def __init__(self, git_dir: Path):
        self.path = cache_folder(git_dir) / CACHE_NAME
        self.dirty = False
        self.discarded = ""  # why a cache file was not used, when it was not
        self.blobs: dict[str, dict] = {}
        self.pairs: dict[str, str] = {}
        try:
            raw = self.path.read_bytes()
        except OSError:
            return
        try:
            envelope = json.loads(raw)
            body = envelope["body"]
            if envelope.get("format") != CACHE_FORMAT or envelope.get("tool") != __version__:
                raise ValueError("written by another version")
            if envelope.get("sha256") != hashlib.sha256(body.encode("utf-8")).hexdigest():
                raise ValueError("its content does not match its hash")
            data = json.loads(body)
            blobs, pairs = data["blobs"], data["pairs"]
            if not isinstance(blobs, dict) or not isinstance(pairs, dict):
                raise ValueError("not a cache")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            self.discarded = str(exc) or type(exc).__name__
            return
        self.blobs = {k: v for k, v in blobs.items() if _is_sha(k) and _good_facts(v)}
        self.pairs = {k: v for k, v in pairs.items() if isinstance(k, str) and isinstance(v, str)}

    def save(self) -> None:
        if not self.dirty:
            return
        body = json.dumps({"blobs": self.blobs, "pairs": self.pairs}, sort_keys=True)
        envelope = {"format": CACHE_FORMAT, "tool": __version__,
                    "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(), "body": body}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}-{id(self)}")
            tmp.write_text(json.dumps(envelope), encoding="utf-8")
            os.replace(tmp, self.path)
            for stale in self.path.parent.glob("history-*.json"):  # other versions' caches
                if stale.name != self.path.name:
                    stale.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only repository (or a full disk) simply goes without a cache


def _is_sha(text: object) -> bool:
    return isinstance(text, str) and len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


_FACT_FIELDS: dict[str, dict[str, type]] = {"document": {"id": str, "effective": str, "title": str},
                "exception": {"id": str, "status": str, "effective": str, "title": str},
                "models": {}, "invalid": {"line": int, "col": int, "message": str}}


def _good_facts(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    kind = value.get("kind")
    fields = _FACT_FIELDS.get(kind) if isinstance(kind, str) else None
    return fields is not None and all(isinstance(value.get(k), t) for k, t in fields.items())


class _Parser:
    """Blobs -> model objects (parsed at most once per run) and cached facts."""

    KEEP = 512  # parsed blobs kept: a change's old blob is almost always a recent new one

    def __init__(self, sources: GitSources, cache: _Cache, reuse: Mapping | None = None):
        self.sources, self.cache = sources, cache
        self.reuse = reuse or {}  # checked stages by (path, SHA-256 of the bytes): see _reused
        self.keep = self.KEEP  # raised while a commit changes more files than that (see _timeline)
        self.objects: OrderedDict[str, object] = OrderedDict()
        self.known: dict[str, Known] = {}  # path -> the last version that read cleanly
        self.errors: dict[str, tuple[int, int, str]] = {}  # blob -> its first error (this run)

    def model(self, path: str, blob: str):
        if blob in self.objects:
            self.objects.move_to_end(blob)
            return self.objects[blob]
        from ..validate import model_stage_parsed  # parse, schema check and build: no prose checks

        kind = kind_of(path) or KIND_DOCUMENT
        data = self.sources.blob(blob)
        obj = self._reused(path, data)
        if obj is None:
            obj = self._from_previous(path, kind, data)
        if obj is None:
            obj, error, parsed = model_stage_parsed(RawFile(path, kind, data))
            if error is not None:
                self.errors[blob] = (error.line, error.col, error.message)
            elif kind == KIND_DOCUMENT and parsed is not None and parsed.text is not None:
                known = remember(parsed.text, cast(PosDict, parsed.value), cast(Document, obj))
                if known is not None:
                    self.known[path] = known
        self.objects[blob] = obj
        while len(self.objects) > self.keep:
            self.objects.popitem(last=False)
        return obj

    def _reused(self, path: str, data: bytes):
        """The model object of these exact bytes at this path, when the build or check that asked
        for the history has already made it (the working tree's files: in a clean checkout, HEAD's
        blobs all are): the same object reading them gives (validate._file_stage makes it by the
        same model stage). None otherwise, or when they did not load there either."""
        if not self.reuse:
            return None
        staged = self.reuse.get((path, hashlib.sha256(data).hexdigest()))
        return staged[1] if staged is not None else None

    def _from_previous(self, path: str, kind: str, data: bytes):
        """The document read from the last version of it that read cleanly, when only the
        rules a commit changed need reading (incremental.py); None otherwise."""
        known = self.known.get(path) if kind == KIND_DOCUMENT else None
        if known is None:
            return None
        newer = read_from_previous(known, path, data)
        if newer is None:
            return None
        self.known[path] = newer
        return newer.document

    def facts(self, path: str, blob: str) -> dict:
        known = self.cache.blobs.get(blob)
        if known is not None:
            return known
        obj = self.model(path, blob)
        kind = kind_of(path)
        if obj is None:
            line, col, message = self.errors.get(blob, (0, 0, "the file does not load"))
            facts = {"kind": "invalid", "line": line, "col": col, "message": message}
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


@paused_collection
def timeline(root: Path, rev: str = "HEAD", as_of: dt.date | None = None, reuse: Mapping | None = None) -> Timeline:
    """The versions of the sources under ``root`` along the first-parent history of ``rev``.
    ``reuse``: per-file stages already checked, by (path, SHA-256 of the file's bytes), as
    check_files keeps them: a blob with the same bytes is not parsed again."""
    return _timeline(root, rev, as_of, reuse)


def _timeline(root: Path, rev: str, as_of: dt.date | None, reuse: Mapping | None = None) -> Timeline:
    with GitSources(root) as sources:
        commits = sources.log(rev) if sources.has_commits else []
        tags = sources.tags() if commits else {}
        cache = _Cache(sources.git_dir)
        parser = _Parser(sources, cache, reuse)
        sources.prefetch(_blobs_to_read(commits, cache))
        state = _State(parser)
        versions: dict[str, list[Version]] = {}
        entries: list[Entry] = []
        # A commit whose sources do not validate is not a published state: it starts no version
        # and revises none, and the next valid commit is compared with the last valid state.
        current: dict[str, str] = {}  # path -> blob, the sources at this commit
        valid: dict[str, str] = {}  # path -> blob, the sources at the last commit that validated
        dirty: set[str] = set()  # paths where the two differ
        for commit in commits:
            changed = [c for c in commit.changes if kind_of(c.path) is not None]
            if not changed:
                continue
            # a commit's files are read by several passes (validity, facts, summaries, versions):
            # kept for all of them, an old and a new version each, or a commit of 5,000 files was
            # parsed two and a half times over
            parser.keep = max(_Parser.KEEP, 2 * len(changed) + 2 * len(dirty) + 16)
            for c in changed:
                if c.new_blob is None:
                    current.pop(c.path, None)
                else:
                    current[c.path] = c.new_blob
                if current.get(c.path) == valid.get(c.path):
                    dirty.discard(c.path)
                else:
                    dirty.add(c.path)
            commit_tags = tags.get(commit.sha, [])
            error = _first_error(parser, current, dirty)
            if error is not None:
                entries.append(Entry(commit, "not a published state: the sources do not validate", [],
                                     commit_tags, invalid=error))
                continue
            touched = [Change("D" if current.get(p) is None else "A" if valid.get(p) is None else "M",
                              p, valid.get(p), current.get(p)) for p in sorted(dirty)]
            valid, dirty = dict(current), set()
            if not touched:  # back to the last valid state (a revert of a broken commit)
                entries.append(Entry(commit, "no change to the policy", [], commit_tags))
                continue
            old_docs, old_exc = state.docs_by_id(), state.exceptions_key()
            for change in touched:
                state.apply(change)
            summaries = [s for path, old, new in _pairs(touched, parser)
                         if (s := parser.summary(path, old, new)) != "no change to the policy"]
            changes = _version_changes(commit, touched, parser, versions, commit_tags,
                                       (old_docs, old_exc), (state.docs_by_id(), state.exceptions_key()))
            entries.append(Entry(commit, "; ".join(summaries) or "no change to the policy", changes, commit_tags))
        cache.save()
        shallow = sources.shallow
    when = as_of or dt.datetime.now(dt.timezone.utc).date()
    for page_versions in versions.values():
        _statuses(page_versions, when)
    return Timeline(versions, entries, shallow, when)


class _State:
    """The sources at the commit being walked, as the facts versions need, kept up to date
    change by change (never recomputed over every file)."""

    def __init__(self, parser: _Parser):
        self.parser = parser
        self.docs: dict[str, tuple[str, str, str]] = {}  # path -> (id, effective, title)
        self.active: dict[str, str] = {}  # exception path -> effective, for active exceptions

    def apply(self, change) -> None:
        path, kind = change.path, kind_of(change.path)
        self.docs.pop(path, None)
        self.active.pop(path, None)
        if change.new_blob is None:
            return
        facts = self.parser.facts(path, change.new_blob)
        if kind == KIND_DOCUMENT and facts["kind"] == "document":
            self.docs[path] = (facts["id"], facts["effective"], facts["title"])
        elif kind == KIND_EXCEPTION and facts["kind"] == "exception" and facts["status"] == "active":
            self.active[path] = facts["effective"]

    def docs_by_id(self) -> dict[str, tuple[str, str]]:
        return {doc_id: (effective, title) for doc_id, effective, title in self.docs.values()}

    def exceptions_key(self) -> str | None:
        return max(self.active.values()) if self.active else None


def _blobs_to_read(commits: list[CommitInfo], cache: _Cache) -> list[str]:
    """The blobs the walk will read, in walk order: those whose facts or whose change from the
    previous version are not in the cache (a warm run reads none)."""
    out: list[str] = []
    for commit in commits:
        for c in commit.changes:
            if kind_of(c.path) is None:
                continue
            pair = f"{c.old_blob}..{c.new_blob}"
            for blob in (c.old_blob, c.new_blob):
                if blob and (blob not in cache.blobs or pair not in cache.pairs):
                    out.append(blob)
    return out


def _first_error(parser: _Parser, current: dict[str, str], paths: set[str]) -> str | None:
    """The first error (``path:line:col: message``) among the files at ``paths``, or None."""
    for path in sorted(paths):
        blob = current.get(path)
        if blob is None:
            continue
        facts = parser.facts(path, blob)
        if facts.get("kind") == "invalid":
            line, col = facts.get("line", 0), facts.get("col", 0)
            return f"{path}:{line}:{col}: {facts.get('message', 'does not load')}" if line else \
                f"{path}: {facts.get('message', 'does not load')}"
    return None


def _pairs(touched, parser: _Parser):
    """(path, old blob, new blob) for each changed source. A document is matched by its id, not
    its path, so a renamed file is compared with itself."""
    out: list[tuple[str, str | None, str | None]] = []
    docs_before: dict[str, tuple[str, str]] = {}
    docs_after: dict[str, tuple[str, str]] = {}
    for change in touched:
        if kind_of(change.path) != KIND_DOCUMENT:
            out.append((change.path, change.old_blob, change.new_blob))
            continue
        for blob, docs in ((change.old_blob, docs_before), (change.new_blob, docs_after)):
            if blob:
                facts = parser.facts(change.path, blob)
                docs[facts.get("id", change.path)] = (change.path, blob)
    for doc_id in sorted(docs_before.keys() | docs_after.keys()):
        old, new = docs_before.get(doc_id), docs_after.get(doc_id)
        either = new or old
        assert either is not None  # the id came from one side or the other
        out.append((either[0], old[1] if old else None, new[1] if new else None))
    return out


def _version_changes(commit, touched, parser, versions, tags, before, after) -> list[tuple[str, str, str]]:
    (old_docs, old_exc), (new_docs, new_exc) = before, after
    changed_docs = set()
    for c in touched:
        if kind_of(c.path) == KIND_DOCUMENT:
            for blob in (c.old_blob, c.new_blob):
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
            day = dt.date.fromisoformat(effective)
            page.append(Version(doc_id, day, title, commit, tags=list(tags),
                                ordinal=1 + sum(1 for v in page if v.effective == day)))
            out.append((doc_id, page[-1].label, "new version"))
        else:
            page[-1].revisions.append(commit)
            page[-1].title = title
            page[-1].tags += tags
            out.append((doc_id, page[-1].label, "revision"))
    exceptions_touched = any(kind_of(c.path) in (KIND_EXCEPTION, KIND_MODELS) for c in touched)
    if exceptions_touched and (new_exc is not None or versions.get(EXCEPTIONS_PAGE)):
        page = versions.setdefault(EXCEPTIONS_PAGE, [])
        if new_exc != old_exc or not page:
            dated = dt.date.fromisoformat(new_exc) if new_exc else None
            page.append(Version(EXCEPTIONS_PAGE, dated, "Exceptions", commit, tags=list(tags),
                                ordinal=1 + sum(1 for v in page if v.effective == dated)))
            out.append((EXCEPTIONS_PAGE, page[-1].label, "new version"))
        else:
            page[-1].revisions.append(commit)
            out.append((EXCEPTIONS_PAGE, page[-1].label, "revision"))
    return out


def _statuses(page_versions: list[Version], as_of: dt.date) -> None:
    """In force: the version with the latest date that has come (the later-introduced one on a
    tie); scheduled: dates still to come; superseded: the rest."""
    current: Version | None = None
    for v in page_versions:  # oldest first, so '>=' keeps the later-introduced on a tie
        if v.effective is not None and v.effective <= as_of and (
                current is None or current.effective is None or v.effective >= current.effective):
            current = v
    for v in page_versions:
        if v is current:
            v.status = "in force"
        elif v.effective is not None and v.effective > as_of:
            v.status = "scheduled"
        else:
            v.status = "superseded"
