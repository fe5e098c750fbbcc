"""Which git revision the sources come from (GitPython); works, with 'no revision', outside git."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from .cachedir import git_dir_of

SOURCE_PATHS = ("policy", "exceptions", "pyproject.toml")


@dataclass(frozen=True, slots=True)
class SourceRevision:
    commit: str | None  # full sha of HEAD; None outside git or before the first commit
    dirty: bool  # the working tree's sources differ from HEAD
    committed: dt.date | None  # HEAD's commit date (UTC)
    committed_at: dt.datetime | None = None  # HEAD's commit time (UTC)
    sequence: int | None = None  # commits on HEAD's first-parent line: orders bundles against rollback
    preview: bool = False  # pages say "a preview of the working tree" (policy preview), not the revision

    @property
    def label(self) -> str:
        if self.preview:
            return "working tree (preview)"
        if self.commit is None:
            return "uncommitted sources" if self.dirty else "no git revision"
        return self.commit[:12] + (" with uncommitted changes" if self.dirty else "")

    @property
    def short(self) -> str:
        return (self.commit or "none")[:12] + ("+dirty" if self.dirty else "")


def source_revision(root: Path) -> SourceRevision:
    if "GIT_DIR" not in os.environ and git_dir_of(Path(root)) is None:
        return SourceRevision(None, False, None)  # not in git: GitPython not even imported (0.04 s)
    try:
        import git
    except ImportError:  # pragma: no cover - GitPython is a dependency; git itself may be missing
        return SourceRevision(None, False, None)
    try:
        repo = git.Repo(Path(root).resolve(), search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError):
        return SourceRevision(None, False, None)
    except Exception:  # git binary missing (GitPython raises ImportError-like errors at first use)
        return SourceRevision(None, False, None)
    with repo:
        top = Path(repo.working_tree_dir or root).resolve()
        rel = Path(root).resolve().relative_to(top)
        paths = [str(rel / p) if str(rel) != "." else p for p in SOURCE_PATHS]
        try:
            head = repo.head.commit
        except ValueError:  # no commits yet
            return SourceRevision(None, True, None)
        dirty = bool(repo.git.status("--porcelain", "--untracked-files=all", "--", *paths).strip())
        when = dt.datetime.fromtimestamp(head.committed_date, dt.timezone.utc)
        return SourceRevision(head.hexsha, dirty, when.date(), when, first_parent_count(repo, head.hexsha))


def first_parent_count(repo, sha: str) -> int | None:
    """How many commits the first-parent line up to ``sha`` holds (1 for a root commit): grows
    with every commit a branch takes, so it orders the bundles built from that branch."""
    if Path(repo.git_dir, "shallow").exists():
        return None  # a shallow clone cannot count its history: no sequence rather than a wrong one
    try:
        return int(repo.git.rev_list("--count", "--first-parent", sha))
    except Exception:  # an odd repository: no sequence, and a client holding one refuses the bundle
        return None
