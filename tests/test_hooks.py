"""The pre-commit hooks: the manifest passes the framework's own schema, each hook's `files`
pattern picks the policy sources and nothing else, and each entry, run as the framework runs it
(in the repository; with the changed files' names for policy-fmt), passes on good sources and
fails on bad ones."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from pre_commit.clientlib import load_manifest

from conftest import REPO

HOOKS = {h["id"]: h for h in load_manifest(str(REPO / ".pre-commit-hooks.yaml"))}


def _run(entry: str, cwd: Path, files: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    command, *args = shlex.split(entry)
    assert command == "policy"
    return subprocess.run([sys.executable, "-m", "generator", *args, *files], cwd=cwd, capture_output=True, text=True)


def test_the_manifest_is_valid_and_picks_the_sources():
    assert set(HOOKS) == {"policy-fmt", "policy-check", "policy-due"}
    pattern = re.compile(HOOKS["policy-check"]["files"])
    assert all(pattern.search(p) for p in ("policy/usage-policy.yaml", "exceptions/gov.yaml", "pyproject.toml"))
    assert not any(pattern.search(p) for p in ("README.md", "docs/policy/x.yaml", "site/index.html"))
    assert HOOKS["policy-check"]["pass_filenames"] is False
    # policy-fmt is given the changed source files: top-level YAML of policy/ and exceptions/ only
    fmt = re.compile(HOOKS["policy-fmt"]["files"])
    assert HOOKS["policy-fmt"]["pass_filenames"] is True
    assert all(fmt.search(p) for p in ("policy/usage-policy.yaml", "policy/models.yaml", "exceptions/gov.yaml",
                                       "exceptions/old.yml"))
    assert not any(fmt.search(p) for p in ("policy/drafts/x.yaml", "docs/policy/x.yaml", "pyproject.toml",
                                           "exceptions/README.md"))


def test_each_entry_passes_on_good_sources_and_fails_on_bad_ones(repo):
    assert _run(HOOKS["policy-check"]["entry"], repo.root).returncode == 0
    assert _run(HOOKS["policy-due"]["entry"], repo.root).returncode == 0
    assert _run(HOOKS["policy-fmt"]["entry"], repo.root).returncode == 0
    (repo.root / "exceptions" / "gov.yaml").write_text((repo.root / "exceptions" / "gov.yaml").read_text()
                                                       .replace("  max_asl: 2", "      max_asl: 2"))
    assert _run(HOOKS["policy-fmt"]["entry"], repo.root).returncode == 1
    # as the framework runs it: with the names of the files the commit changes
    assert _run(HOOKS["policy-fmt"]["entry"], repo.root, ("exceptions/gov.yaml",)).returncode == 1
    assert _run(HOOKS["policy-fmt"]["entry"], repo.root, ("policy/models.yaml",)).returncode == 0
    repo.git.git.checkout("--", "exceptions/gov.yaml")
    (repo.root / "exceptions" / "gov.yaml").write_text("id: [broken\n")
    failed = _run(HOOKS["policy-check"]["entry"], repo.root)
    assert failed.returncode == 1 and "exceptions/gov.yaml:2:1: malformed YAML" in failed.stdout
    repo.git.git.checkout("--", "exceptions/gov.yaml")
    repo.edit("exceptions/gov.yaml", "review_by: 2030-06-26", "review_by: 2025-01-02")
    overdue = _run(HOOKS["policy-due"]["entry"], repo.root)
    assert overdue.returncode == 1 and "the review of exception 'gov' was due on 2025-01-02" in overdue.stdout
