"""CHANGELOG.md from published versions, clause by clause, newest first (Keep a Changelog style),
and the per-version diffs the site's redlines use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, cast

from ..load import PosDict, RawFile
from ..load.files import KIND_DOCUMENT
from ..model import Corpus, Document
from .diff import diff_corpora, section_document, summarize
from .gitrepo import GitSources
from .incremental import Known
from .versions import EXCEPTIONS_PAGE, Timeline, Version

HEADER = """# Changelog

Published versions of the policy, newest first, clause by clause, in the style of
[Keep a Changelog](https://keepachangelog.com/en/1.1.0/). A version is named by the date it
takes effect. This file is generated from git history by `policy changelog`; do not edit it by
hand (`policy changelog --check` fails in CI when it is stale).
"""


@dataclass
class VersionChange:
    version: Version
    previous: Version | None
    corpus: Corpus  # the sources at the version's last commit
    diff: dict  # restricted to the page


class Corpora:
    """The validated model at commits, each loaded once."""

    def __init__(self, root: Path, stages: Mapping | None = None, blobs: dict[str, bytes] | None = None):
        """``stages``: the working tree's per-file stages (check_root_cached's ``keep``), so that
        the files a commit shares with it are neither parsed again nor held twice in memory (the
        models share their objects). Read when the first commit is loaded, not before (a lazy
        mapping, stagecache.Saved, is then read only when needed)."""
        self.root = root
        self.loaded: dict[str, Corpus | None] = {}
        self.stages = stages
        self.file_cache: dict = {}  # (path, sha256) -> stage, of every commit read
        self.known: dict[str, bytes] | None = None  # the working tree's files, read with the first commit
        self.known_ids: dict[str, str] = {}  # and their blob ids
        self.blobs: dict[str, bytes] = {} if blobs is None else blobs  # blob id -> bytes: commits share most files
        self.partial: dict[str, Corpus | None] = {}
        self.sealed = False  # set once a build has gathered what it renders: no more loading
        self.documents: dict[str, Known] = {}  # path -> its last version read whole or from the one before
        self.prose: dict = {}  # what each prose field gave (validate.links.check_prose's memo)
        self.git: GitSources | None = None  # open while commits are loaded (its git processes: once)

    def seal(self) -> None:
        self.sealed = True
        self.close()

    def close(self) -> None:
        """Let the repository go (its `git cat-file` processes); opened again if a commit is loaded."""
        if self.git is not None:
            self.git.close()
            self.git = None
    def at(self, sha: str) -> Corpus | None:
        if sha not in self.loaded:
            if self.sealed:  # a page asked history for something while rendering: a bug of ours
                raise RuntimeError(f"the sources at {sha[:12]} were not gathered before rendering")
            from . import check_revision, working_files

            if self.stages is not None:
                self.file_cache = {**self.stages, **self.file_cache}
                self.stages = None
            if self.known is None:
                from .gitrepo import blob_ids

                self.known = working_files(self.root)
                self.known_ids = blob_ids(self.known)
            if self.git is None:
                self.git = GitSources(self.root)
            cache = dict(self.file_cache)  # (check_files keeps only this commit's entries in it)
            result = check_revision(self.root, sha, cache=cache, known=self.known, blobs=self.blobs,
                                    known_ids=self.known_ids, stage=self._stage, sources=self.git)
            self.file_cache.update(cache)
            self.loaded[sha] = result.corpus if not result.errors else None
            self.partial[sha] = result.corpus
        return self.loaded[sha]

    def _stage(self, raw: RawFile) -> tuple:
        """The per-file stage of a file at a commit (validate._file_stage's result for its
        bytes), with a document read from its last version when only rules changed in between
        (history/incremental.py, as the history reads it) and the prose fields that did not
        change not parsed again. A document read this way has no warnings of its own (the
        commit's validity, all Corpora asks for, comes from errors alone)."""
        from ..validate import check_prose, file_stage_parsed
        from .incremental import remember, update_bytes

        known = self.documents.get(raw.path) if raw.kind == KIND_DOCUMENT else None
        if known is not None:
            newer = update_bytes(known, raw.path, raw.data)
            if newer is not None:
                self.documents[raw.path] = newer
                problems, refs = check_prose(newer.document, self.prose)
                return problems, newer.document, refs
        staged, parsed = file_stage_parsed(raw, self.prose)
        found, obj, _refs = staged
        if raw.kind == KIND_DOCUMENT and obj is not None and parsed is not None and parsed.text is not None \
                and not any(d.severity == "error" for d in found):
            remembered = remember(parsed.text, cast(PosDict, parsed.value), cast(Document, obj))
            if remembered is not None:
                self.documents[raw.path] = remembered
        return staged

    def version(self, v: Version) -> Corpus | None:
        """The sources of version ``v``: those of its newest commit that validates as a whole.
        (The history already skips commits whose files do not load; one whose files load but
        break a rule across files is passed over here.) None when no commit of it validates."""
        for commit in [*reversed(v.revisions), v.introduced]:
            loaded = self.at(commit.sha)
            if loaded is not None:
                return loaded
        return None

    def loaded_anyway(self, sha: str) -> Corpus:
        """The model at ``sha`` even when it breaks a rule across files (the files that load)."""
        self.at(sha)
        from ..model import Corpus

        return self.partial.get(sha) or Corpus.of([], [], [])


def page_diff(old: Corpus | None, new: Corpus | None, page: str) -> dict:
    """What changed on one page (a document, or the exceptions page) between two models: the
    diff of that page's part only, so that the cost grows with the page, not the policy."""
    if page == EXCEPTIONS_PAGE:
        return restrict(diff_corpora(old, new, documents=()), page, old, new)
    return restrict(diff_corpora(old, new, documents=(page,), exceptions=False), page, old, new)


def restrict(diff: dict, page: str, old: Corpus | None, new: Corpus | None) -> dict:
    """The part of a corpus diff that one page shows."""
    out: dict[str, Any] = {key: [] for key in ("documents", "sections", "rules", "exceptions", "models")}
    out["format"] = diff["format"]
    if page == EXCEPTIONS_PAGE:
        out["exceptions"], out["models"] = diff["exceptions"], diff["models"]
    else:
        def on_page(corpus: Corpus | None, kind: str, ident: str) -> bool:
            if corpus is None:
                return False
            if kind == "rules":
                rule = corpus.rules.get(ident)
                return rule is not None and rule.document == page
            return section_document(corpus, ident) == page

        out["documents"] = [d for d in diff["documents"] if d["id"] == page]
        for kind in ("sections", "rules"):
            out[kind] = [e for e in diff[kind] if on_page(new, kind, e.get("to", e["id"])) or on_page(old, kind, e["id"])]
    out["summary"] = summarize(out)
    return out


def version_changes(timeline: Timeline, corpora: Corpora) -> list[VersionChange]:
    """Every version of every page with its diff against the version before it, newest first."""
    out: list[VersionChange] = []
    for page, versions in timeline.versions.items():
        previous: Version | None = None
        for version in versions:
            new = corpora.version(version)
            old = corpora.version(previous) if previous else None
            if new is None:
                previous = version
                continue
            out.append(VersionChange(version, previous, new, page_diff(old, new, page)))
            previous = version
    out.sort(key=lambda c: (c.version.effective.isoformat() if c.version.effective else "", c.version.last.committed,
                            c.version.page), reverse=True)
    return out


def _page_title(change: VersionChange) -> str:
    if change.version.page == EXCEPTIONS_PAGE:
        return "Exceptions to our Usage Policy"
    doc = change.corpus.documents_by_id.get(change.version.page)
    return doc.title if doc else change.version.page


def render(changes: list[VersionChange]) -> str:
    lines = [HEADER]
    for change in changes:
        v = change.version
        lines.append(f"## [{v.label}] {_page_title(change)}")
        lines.append("")
        published = v.introduced
        lines.append(f"Published in commit `{published.short}` on {published.date.isoformat()}"
                     + (f", with {len(v.revisions)} editorial revision{'s' if len(v.revisions) != 1 else ''}"
                        if v.revisions else "") + (f"; tagged {', '.join(v.tags)}" if v.tags else "")
                     + (f"; approved by {', '.join(v.approvals)}" if v.approvals else "") + ".")
        added, changed, removed = _sections(change.diff)
        for heading, items in (("Added", added), ("Changed", changed), ("Removed", removed)):
            if items:
                lines += ["", f"### {heading}", ""] + [f"- {item}" for item in items]
        if not (added or changed or removed):
            lines += ["", "First published version." if change.previous is None else "No clause changed."]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _sections(diff: dict) -> tuple[list[str], list[str], list[str]]:
    added, changed, removed = [], [], []
    for rule in diff["rules"]:
        rid, kind = f"`{rule['id']}`", rule["change"]
        if kind == "added":
            when = f", in force from {rule['effective']}" if rule.get("effective") else ""
            added.append(f"{rid} {rule['title']}{when}.")
        elif kind == "removed":
            removed.append(f"{rid} {rule['title']}: deleted.")
        elif kind == "retired":
            retired = rule["fields"]["retired"]["to"]
            replaced = rule["fields"].get("replaced_by", {}).get("to")
            removed.append(f"{rid} {rule['title']}: retired, no longer in force from {retired}"
                           + (f"; replaced by `{replaced}`" if replaced else "") + ".")
        else:
            changed.append(f"{rid} {rule['title']}: {_rule_change(rule)}.")
    for section in diff["sections"]:
        if section["change"] == "renamed":
            changed.append(f"Section `{section['id']}` renamed to `{section['to']}`.")
        elif section["change"] == "added":
            added.append(f"Section `{section['id']}` {section['title']}.")
        elif section["change"] == "removed":
            removed.append(f"Section `{section['id']}` {section['title']}.")
        elif "title" in section.get("fields", {}):
            changed.append(f"Section `{section['id']}` retitled \"{section['fields']['title']['to']}\".")
    for exc in diff["exceptions"]:
        eid = f"`{exc['id']}`"
        if exc["change"] == "added":
            added.append(f"Exception {eid} {exc['title']} ({exc['status']}, effective {exc['effective']}).")
        elif exc["change"] == "removed":
            removed.append(f"Exception {eid} {exc['title']}.")
        else:
            changed.append(f"Exception {eid}: " + ", ".join(_field_words(k, v) for k, v in exc["fields"].items()) + ".")
    for model in diff["models"]:
        (added if model["change"] == "added" else removed if model["change"] == "removed" else changed).append(
            f"Model `{model['id']}`" + (f" (ASL {model['asl']})" if "asl" in model else "") + ".")
    return added, changed, removed


def _rule_change(rule: dict) -> str:
    bits = []
    if "moved" in rule:
        bits.append(f"moved from `{rule['moved']['from']['section']}` to `{rule['moved']['to']['section']}`")
    for name, value in rule.get("fields", {}).items():
        bits.append(_field_words(name, value))
    return "; ".join(bits)


def _field_words(name: str, value: dict) -> str:
    if "words" in value:
        return f"{name} reworded"
    if "added" in value or "removed" in value or "purposes" in value:
        parts = [f"+{x}" for x in value.get("added", [])] + [f"-{x}" for x in value.get("removed", [])]
        if "purposes" in value:
            parts.append("purposes changed")
        direction = f" ({value['direction']})" if "direction" in value else ""
        return f"{name} {' '.join(parts)}{direction}"
    direction = f" ({value['direction']})" if "direction" in value else ""
    return f"{name} {value['from']} -> {value['to']}{direction}"


def changelog_text(root: Path, timeline: Timeline, stages: Mapping | None = None) -> str:
    """``stages``: the working tree's checked files (the stage cache `policy check` or `policy
    build` left): a commit's file with the same bytes is not parsed again (see Corpora)."""
    corpora = Corpora(root, stages)
    try:
        return render(version_changes(timeline, corpora))
    finally:
        corpora.close()
