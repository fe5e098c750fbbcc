"""History: the sources at any revision (from git objects), semantic diffs, versions, the
published-id rule, the changelog."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable, Mapping

from ..config import settings_from_text
from ..errors import Diagnostic, UsageError, ValidationFailed
from ..facts import DATE as _DATE
from ..gcpause import paused_collection
from ..load import RawFile, read_tree
from ..model import Corpus
from ..validate import CheckResult, check_files, check_root
from .diff import diff_corpora
from .gitrepo import GitSources, GitUnavailable
from .approval import approval_problems
from .notice import notice_problems

WORKTREE = "worktree"


def working_files(root: Path) -> dict[str, bytes]:
    """The working tree's source files by path, for check_revision's ``known``: a commit's file
    whose blob id matches is taken from here, not read from git's object store (5,000 blobs:
    0.7 s through GitPython). Files that cannot be read are left out (their blobs are read)."""
    try:
        files, _problems = read_tree(Path(root))
    except UsageError:
        return {}
    return {raw.path: raw.data for raw in files}


def check_revision(root: Path, rev: str, *, today: dt.date | None = None, cache: dict | None = None,
                   known: Mapping[str, bytes] | None = None, blobs: dict[str, bytes] | None = None,
                   known_ids: Mapping[str, str] | None = None,
                   stage: Callable[[RawFile], tuple] | None = None,
                   sources: GitSources | None = None) -> CheckResult:
    """Check the sources as they were at ``rev``, read from git objects (no checkout); ``known``,
    ``blobs`` and ``known_ids``: see GitSources.files_at; ``stage``: see check_files;
    ``sources``: the repository, open, for a caller checking many revisions (else opened here)."""
    if sources is not None:
        files, pyproject = sources.files_at(rev, known, blobs, known_ids)
    else:
        with GitSources(root) as opened:
            files, pyproject = opened.files_at(rev, known, blobs, known_ids)
    problems: list[Diagnostic] = []
    if pyproject is not None:
        try:
            settings_from_text(pyproject.decode("utf-8", "replace"))
        except ValidationFailed as exc:
            problems += exc.diagnostics
    return check_files(files, problems, today=today, cache=cache, stage=stage)


class RevisionChecks:
    """The checks of several revisions in one command (a diff, an impact replay), sharing what
    checking each file found: the working tree's stage cache (content-keyed, see
    validate/stagecache.py) and every revision checked before. A file whose git blob has the
    working tree's bytes is taken from the working tree, not read from the object store. So a
    diff of two commits costs the files that differ and the cross-file checks, not two whole
    checks of every file."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._stages: dict | None = None  # read when the first revision is checked
        self._saved: set = set()
        self._tree: tuple[list, list[Diagnostic]] | None = None

    @property
    def stages(self) -> dict:
        if self._stages is None:
            from ..validate import stagecache

            self._stages = stagecache.load(self.root)
            self._saved = set(self._stages)
        return self._stages

    def _working(self) -> tuple[list, list[Diagnostic]]:
        if self._tree is None:
            self._tree = read_tree(self.root)
        return self._tree

    @paused_collection
    def check(self, rev: str | None) -> tuple[CheckResult, str]:
        """The check of ``rev`` (None or 'worktree': the working tree) and a label for it."""
        cache = dict(self.stages)
        if rev is None or rev == WORKTREE:
            result, label = check_root(self.root, cache=cache, tree=self._working()), "working tree"
            if set(cache) != self._saved:  # what `policy check` would keep: the working tree's stages
                from ..validate import stagecache

                stagecache.save(self.root, cache)
                self._saved = set(cache)
        else:
            with GitSources(self.root) as sources:
                sha = sources.resolve(rev)
            known = {raw.path: raw.data for raw in self._working()[0]}
            result, label = check_revision(self.root, sha, cache=cache, known=known), sha
        self.stages.update(cache)
        return result, label

    def corpus(self, rev: str | None) -> tuple[Corpus, str]:
        """The validated model at ``rev`` and its label; raises ValidationFailed."""
        result, label = self.check(rev)
        if result.errors or result.corpus is None:
            raise ValidationFailed(list(result.diagnostics))
        return result.corpus, label


def corpus_at(root: Path, rev: str | None) -> tuple[Corpus, str]:
    """The validated model at ``rev`` (None: the working tree) and a label for it."""
    return RevisionChecks(root).corpus(rev)


def resolve_point(root: Path, point: str | None) -> str | None:
    """A diff end point: None or 'worktree' (the working tree), a revision, or a version date
    (the last commit of that version of any page)."""
    if point is None or point == WORKTREE:
        return None
    if _DATE.match(point):
        from .versions import timeline

        matches = [v for page in timeline(root).versions.values() for v in page if v.label == point]
        if not matches:
            raise UsageError(f"no version dated {point} in the history; 'policy history' lists the versions")
        return max(matches, key=lambda v: v.last.committed).last.sha
    with GitSources(root) as sources:
        return sources.resolve(point)


@paused_collection
def diff_points(root: Path, start: str | None = "HEAD", end: str | None = None) -> dict:
    """Semantic diff between two points (default: HEAD against the working tree)."""
    start_rev, end_rev = resolve_point(root, start), resolve_point(root, end)
    checks = RevisionChecks(root)
    old, old_label = checks.corpus(start_rev)
    new, new_label = checks.corpus(end_rev)
    result = diff_corpora(old, new)
    result["from"], result["to"] = old_label, new_label
    return result


def published_id_problems(root: Path, current: Corpus, against: str, stages: dict | None = None,
                          notice_days: int = 0, today: dt.date | None = None,
                          require_approval: str = "none") -> tuple[list[Diagnostic], str]:
    """Rule ids present at ``against`` may not vanish; retired ids may not come back; with
    ``notice_days``, a change that makes a rule stricter waits that long (history/notice.py).

    ``stages``: per-file stages of the working tree (check_root_cached's ``keep``); files that
    are the same at ``against`` are not checked again. Returns the problems and a note (empty
    when the check ran)."""
    try:
        sources = GitSources(root)
    except GitUnavailable:
        return [], "git is not available: the check that published rule ids are kept was skipped"
    except UsageError:
        return [], "not a git repository: the check that published rule ids are kept was skipped"
    with sources:
        if not sources.has_commits:
            return [], "no commits yet: the check that published rule ids are kept was skipped"
        sha = sources.resolve(against)
        approvals = sources.approvals_since(sha) if require_approval != "none" else []
        head_sha = sources.resolve("HEAD") if require_approval != "none" and sources.dirty() else None
    working = {raw.path: raw.data for raw in read_tree(Path(root))[0]}  # unchanged files: not read from git
    previous = check_revision(root, sha, cache=dict(stages) if stages else None, known=working)
    if previous.corpus is None:
        return [], f"the sources at {against} do not load: the published-id check was skipped"
    problems: list[Diagnostic] = []
    short = sha[:12]
    for rule_id, old in sorted(previous.corpus.rules.items()):
        doc = previous.corpus.documents_by_id.get(old.document)
        where = f"{against} (commit {short}, {old.document} version {doc.effective if doc else '?'})"
        new = current.rules.get(rule_id)
        if new is None:
            home = current.documents_by_id.get(old.document)
            path = home.path if home else old.origin.path
            problems.append(Diagnostic(path, 0, 0,
                                       f"rule '{rule_id}' was published at {where} and is gone; published ids "
                                       f"are permanent: keep the rule and add 'retired: YYYY-MM-DD' instead of deleting it"))
        elif old.retired is not None and new.retired is None:
            at = new.positions.get("id", new.origin)
            problems.append(Diagnostic(at.path, at.line, at.col,
                                       f"rule id '{rule_id}' was retired on {old.retired} at {where}; a retired id "
                                       f"may not be reused: give the new rule a new id"))
    if notice_days:
        day = today or dt.datetime.now(dt.timezone.utc).date()
        problems += notice_problems(previous.corpus, current, notice_days, day, f"{against} ({short})")
    if require_approval != "none":
        head = previous.corpus if head_sha == sha else None
        if head_sha is not None and head_sha != sha:
            head = check_revision(root, head_sha, cache=dict(stages) if stages else None, known=working).corpus
        problems += approval_problems(previous.corpus, current, require_approval, against, approvals,
                                      head if head_sha is not None else None)
    return problems, ""
