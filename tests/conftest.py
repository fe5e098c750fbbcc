"""Shared helpers: policy roots built from fixtures in temporary folders, and the CLI runner."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import git

import pytest
from click.testing import CliRunner

from generator.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent

# The history cache goes to a temporary folder, never into a repository's .git (above all not
# into this checkout's own, which tests build from).
os.environ["POLICY_CACHE_DIR"] = tempfile.mkdtemp(prefix="policy-test-cache-")


def build_root(dest: Path, case: Path | None = None) -> Path:
    """The minimal valid policy root, with a bad case's files laid over it.

    A case folder holds the files that differ from the base, an optional DELETE file naming
    paths to remove, and expected.txt (the exact output of `policy check`)."""
    shutil.copytree(FIXTURES / "base", dest)
    if case is not None:
        for src in sorted(case.rglob("*")):
            rel = src.relative_to(case)
            if src.is_dir() or rel.name in ("expected.txt", "DELETE"):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
        delete = case / "DELETE"
        if delete.exists():
            for line in delete.read_text().split():
                shutil.rmtree(dest / line) if (dest / line).is_dir() else (dest / line).unlink()
    return dest


class Repo:
    """A policy repository in a temp folder, committed to with fixed authors and dates."""

    def __init__(self, path):
        self.root = build_root(path)
        self.git = git.Repo.init(self.root, initial_branch="main")
        self.when = dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc)

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text()
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1))

    def commit(self, message: str, author: str = "Ann Legal") -> str:
        self.git.git.add("-A")
        self.when += dt.timedelta(days=1)
        stamp = f"{int(self.when.timestamp())} +0000"
        actor = git.Actor(author, "legal@example.com")
        return self.git.index.commit(message, author=actor, committer=actor, author_date=stamp,
                                     commit_date=stamp).hexsha


@pytest.fixture
def repo(tmp_path):
    """A policy repository with one commit, "First version"."""
    r = Repo(tmp_path / "repo")
    r.commit("First version")
    yield r
    r.git.close()


@pytest.fixture
def root(tmp_path) -> Path:
    return build_root(tmp_path / "root")


@pytest.fixture
def cli(monkeypatch):
    """Run `policy ARGS` in a folder; returns click's Result (exit_code, output)."""

    def run(args: list[str], cwd: Path | None = None, input: str | None = None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        return CliRunner().invoke(main, args, input=input, catch_exceptions=False)

    return run


@pytest.fixture(autouse=True, scope="session")
def git_identity():
    """Tests that commit (or merge with the git command) need an identity even on a machine
    with no git configuration, like a fresh CI runner."""
    import os

    defaults = {"GIT_AUTHOR_NAME": "Policy Tests", "GIT_AUTHOR_EMAIL": "tests@example.com",
                "GIT_COMMITTER_NAME": "Policy Tests", "GIT_COMMITTER_EMAIL": "tests@example.com"}
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    yield
