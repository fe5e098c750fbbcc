"""Where the tool keeps its caches (history facts, per-file check stages): never in the
published folder, always safe to delete.

- in a git repository: ``.git/policy-cache/`` (beside the objects the facts come from);
- outside git: the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``), ``usage-policy/<key>``;
- with ``$POLICY_CACHE_DIR`` set: a folder of its own under it, one per repository or root
  (read-only checkouts, CI, and the tests, which never write into a repository's .git).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ENV_CACHE_DIR = "POLICY_CACHE_DIR"


def _key(path: Path) -> str:
    return hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]


def cache_folder(git_dir: Path) -> Path:
    """The cache folder of the repository whose git folder is ``git_dir``."""
    base = os.environ.get(ENV_CACHE_DIR)
    if base:
        return Path(base) / _key(git_dir)
    return git_dir / "policy-cache"


def git_dir_of(root: Path) -> Path | None:
    """The git folder of the repository holding ``root``, found without git itself."""
    for folder in (root.resolve(), *root.resolve().parents):
        dot = folder / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = dot.read_text(errors="replace").strip()
            if text.startswith("gitdir:"):
                return (folder / text[7:].strip()).resolve()
    return None


def cache_location(root: Path) -> Path:
    """The cache folder for the sources under ``root``, in git or not."""
    git_dir = git_dir_of(Path(root))
    if git_dir is not None:
        return cache_folder(git_dir)
    return tool_cache(_key(root))


def tool_cache(name: str) -> Path:
    """A cache folder outside git: under ``$POLICY_CACHE_DIR`` when set, else the user's cache
    folder. For the tool's own caches (compiled templates) ``name`` should carry the tool's
    version, so that nothing is trusted across versions."""
    base = os.environ.get(ENV_CACHE_DIR)
    if base:
        return Path(base) / name
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return home / "usage-policy" / name
