"""Reading the policy sources from git objects (GitPython): no checkout, no change to the
user's working tree or index.

History follows the first parent of each commit, so it is the sequence of states the branch
went through; a merge counts as one change, its difference from the first parent."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..errors import UsageError
from ..load import RawFile
from ..load.files import MAX_FILE_BYTES, kind_of

SOURCE_DIRS = ("policy", "exceptions")


@dataclass(frozen=True, slots=True)
class Change:
    status: str  # A, M, D, T (added, modified, deleted, type changed)
    path: str  # relative to the policy root
    old_blob: str | None
    new_blob: str | None


@dataclass(frozen=True, slots=True)
class CommitInfo:
    sha: str
    parents: tuple[str, ...]
    author: str
    authored: dt.datetime
    committed: dt.datetime
    subject: str
    changes: tuple[Change, ...] = field(default=())
    approvals: tuple[str, ...] = field(default=())  # its "Approved-by:" trailers, as written

    @property
    def short(self) -> str:
        return self.sha[:12]

    @property
    def date(self) -> dt.date:
        return self.committed.astimezone(dt.timezone.utc).date()


_ZERO = "0" * 40


class GitUnavailable(UsageError):
    """The git command is not installed or not on PATH (GitPython needs it)."""


def import_git():
    """GitPython, or GitUnavailable with what to do: GitPython refuses to import without git."""
    try:
        import git
    except ImportError:
        raise GitUnavailable("the git command is not installed or not on PATH, so the history of the sources "
                             "cannot be read: install git, or set GIT_PYTHON_GIT_EXECUTABLE to it") from None
    return git


class BlobStream:
    """Many blobs from one `git cat-file --batch`, asked for in (about) the order given.

    A thread writes the ids; reading stops at the blob asked for, keeping the few read past on
    the way. An id not in the list, or a failure of the stream, answers None (the caller then
    reads the blob on its own), so the stream can only make reading faster, never different."""

    STASH_BYTES = 32 * 1024 * 1024

    def __init__(self, executable: str, git_dir: Path, shas: list[str]):
        order = list(dict.fromkeys(shas))
        self.pending: deque[str] = deque(order)
        self.wanted = set(order)
        self.stash: dict[str, bytes] = {}
        self.stashed = 0  # bytes in the stash
        self.proc = subprocess.Popen([executable, f"--git-dir={git_dir}", "cat-file", "--batch"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.writer = threading.Thread(target=self._write, args=(order,), daemon=True)
        self.writer.start()

    def _write(self, order: list[str]) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            for start in range(0, len(order), 512):
                stdin.write("".join(f"{sha}\n" for sha in order[start:start + 512]).encode())
            stdin.close()
        except (OSError, ValueError):  # the reader closed the stream first
            pass

    def get(self, sha: str) -> bytes | None:
        if sha in self.stash:
            self.wanted.discard(sha)
            data = self.stash.pop(sha)
            self.stashed -= len(data)
            return data
        if sha not in self.wanted:
            return None
        stdout = self.proc.stdout
        assert stdout is not None
        try:
            while self.pending:
                current = self.pending.popleft()
                header = stdout.readline().split()
                if len(header) != 3 or header[0].decode() != current or header[1] != b"blob":
                    raise OSError("unexpected answer from git cat-file")
                data = stdout.read(int(header[2]))
                stdout.read(1)  # the newline after each object
                if current == sha:
                    self.wanted.discard(sha)
                    return data
                self.stash[current] = data
                self.stashed += len(data)
                while self.stashed > self.STASH_BYTES:  # read past and never asked for: let go
                    oldest = next(iter(self.stash))
                    self.stashed -= len(self.stash.pop(oldest))
                    self.wanted.discard(oldest)
        except (OSError, ValueError):
            self.close()
        return None

    def close(self) -> None:
        self.pending.clear()
        self.wanted.clear()
        self.stash.clear()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stdin):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        self.writer.join(timeout=5)


_TREES: OrderedDict[tuple[str, str], list[tuple[str, str, str]]] = OrderedDict()  # (folder, tree id) -> its files
_TREES_KEPT = 64


def _listing(tree, folder: str) -> list[tuple[str, str, str]]:
    """A source folder's files as (name, blob id, kind), sorted by name: blobs only, symbolic
    links never followed, files of no source kind left out. Kept by folder and tree id (content-
    addressed, so the same in any repository), the most recent _TREES_KEPT."""
    key = (folder, tree.hexsha)
    found = _TREES.get(key)
    if found is not None:
        _TREES.move_to_end(key)
        return found
    found = []
    for item in sorted(tree, key=lambda i: i.name):
        kind = kind_of(f"{folder}/{item.name}")
        if kind is None or item.type != "blob" or item.mode == 0o120000:  # (a symbolic link stored in git)
            continue
        found.append((item.name, item.hexsha, kind))
    _TREES[key] = found
    while len(_TREES) > _TREES_KEPT:
        _TREES.popitem(last=False)
    return found


def blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob (`git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def blob_ids(files: Mapping[str, bytes]) -> dict[str, str]:
    """The blob id of each file's bytes, by path (GitSources.files_at's ``known_ids``)."""
    return {path: blob_id(data) for path, data in files.items()}


def _may_be_in_git(folder: Path) -> bool:
    """False only when no folder from ``folder`` up holds a '.git' and GIT_DIR is not set: then
    git itself would find no repository either."""
    if os.environ.get("GIT_DIR"):
        return True
    return any((d / ".git").exists() for d in (folder, *folder.parents))


class GitSources:
    """The git repository holding a policy root."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        if not _may_be_in_git(self.root):  # answered without importing GitPython (a tenth of a second)
            raise UsageError(f"{root} is not inside a git repository; history needs one "
                             f"(run 'git init' and commit the sources)")
        git = import_git()
        try:
            self.repo = git.Repo(self.root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise UsageError(f"{root} is not inside a git repository; history needs one "
                             f"(run 'git init' and commit the sources)") from None
        top = Path(self.repo.working_tree_dir or self.root).resolve()
        rel = self.root.relative_to(top).as_posix()
        self.prefix = "" if rel == "." else rel + "/"
        self.git_dir = Path(self.repo.git_dir)
        self._stream: BlobStream | None = None

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self.repo.close()

    def prefetch(self, shas: list[str]) -> None:
        """Blobs about to be read, in the order they will be: read through one `git cat-file
        --batch` stream instead of one request and answer each (a fifth of a cold history)."""
        if self._stream is not None:
            self._stream.close()
        git = import_git()
        executable = git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git"
        self._stream = BlobStream(executable, self.git_dir, shas) if shas else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def has_commits(self) -> bool:
        try:
            self.repo.head.commit
        except ValueError:
            return False
        return True

    @property
    def shallow(self) -> bool:
        return (self.git_dir / "shallow").exists()

    def resolve(self, rev: str) -> str:
        """The full commit sha of ``rev`` (a sha, branch, tag, HEAD~2...). Raises UsageError."""
        git = import_git()

        if not self.has_commits:
            raise UsageError("the repository has no commits yet; commit the sources first")
        try:
            return self.repo.commit(rev).hexsha
        except (git.BadName, ValueError, git.GitCommandError):
            raise UsageError(f"'{rev}' is not a revision of this repository (a commit, branch or tag)") from None

    def _paths(self) -> list[str]:
        return [self.prefix + d for d in SOURCE_DIRS] + [self.prefix + "pyproject.toml"]

    def files_at(self, rev: str, known: Mapping[str, bytes] | None = None,
                 blobs: dict[str, bytes] | None = None,
                 known_ids: Mapping[str, str] | None = None) -> tuple[list[RawFile], bytes | None]:
        """The source files at ``rev`` from git objects, and its pyproject.toml (or None).

        ``known``: bytes already at hand by path (the working tree's); a file whose git blob id
        matches them is taken from there instead of being read from the object store
        (``known_ids``: their blob ids by path, when the caller has them: a caller reading many
        revisions computes them once). ``blobs``: blob id -> bytes, kept by a caller that reads
        many revisions (most of their files are the same blobs): read from there, and filled
        with every blob read. A folder's listing is kept by its tree id (_TREES): consecutive
        commits mostly share their exceptions/ or policy/ folder."""
        known = known or {}
        if known_ids is None:
            known_ids = blob_ids(known)
        commit = self.repo.commit(self.resolve(rev))
        files: list[RawFile] = []
        for folder in SOURCE_DIRS:
            try:
                tree = commit.tree / (self.prefix + folder)
            except KeyError:
                continue
            for name, hexsha, kind in _listing(tree, folder):
                rel = f"{folder}/{name}"
                same = known.get(rel)
                if same is not None and known_ids.get(rel) == hexsha:
                    files.append(RawFile(rel, kind, same))
                    continue
                if blobs is not None and hexsha in blobs:
                    data = blobs[hexsha]
                else:
                    binsha = bytes.fromhex(hexsha)
                    if self.repo.odb.info(binsha).size > MAX_FILE_BYTES:
                        data = b"\0" * (MAX_FILE_BYTES + 1)  # refused by the loader's size rule
                    else:
                        data = self.repo.odb.stream(binsha).read()
                        if blobs is not None:
                            blobs[hexsha] = data
                files.append(RawFile(rel, kind, data))
        return files, self._pyproject(commit)

    def pyproject_at(self, rev: str) -> bytes | None:
        """pyproject.toml at ``rev`` (None when there is none), without reading the sources."""
        return self._pyproject(self.repo.commit(self.resolve(rev)))

    def _pyproject(self, commit) -> bytes | None:
        try:
            return (commit.tree / (self.prefix + "pyproject.toml")).data_stream.read()
        except KeyError:
            return None

    def translations_at(self, rev: str) -> dict[str, dict[str, tuple[str, bytes]]]:
        """translations/<locale>/<name>.po at ``rev``, as {locale: {name: (path, bytes)}}."""
        commit = self.repo.commit(self.resolve(rev))
        try:
            tree = commit.tree / (self.prefix + "translations")
        except KeyError:
            return {}
        found: dict[str, dict[str, tuple[str, bytes]]] = {}
        for folder in sorted(tree.trees, key=lambda i: i.name):
            files = found.setdefault(folder.name, {})
            for item in sorted(folder.blobs, key=lambda i: i.name):
                if item.name.endswith(".po") and not item.name.startswith(".") and item.mode != 0o120000:
                    data = item.data_stream.read() if item.size <= 8 * MAX_FILE_BYTES else b"\0" * (8 * MAX_FILE_BYTES + 1)
                    files[item.name[:-3]] = (f"translations/{folder.name}/{item.name}", data)
        return found

    def blob(self, sha: str) -> bytes:
        if self._stream is not None:
            data = self._stream.get(sha)
            if data is not None:
                return data
        return self.repo.odb.stream(bytes.fromhex(sha)).read()

    def log(self, rev: str = "HEAD") -> list[CommitInfo]:
        """Commits on the first-parent line of ``rev`` that change the sources, oldest first,
        each with its changes to source files (relative to its first parent)."""
        if not self.has_commits:
            return []
        sha = self.resolve(rev)
        sep, end = "\x1f", "\x1e"
        raw = self.repo.git.log(
            sha, "--first-parent", "--diff-merges=first-parent", "--raw", "--no-abbrev", "--no-renames",
            "--reverse", f"--format={end}%H{sep}%P{sep}%an{sep}%aI{sep}%cI{sep}"
                         f"%(trailers:key=Approved-by,valueonly,separator=%x1d){sep}%s", "--", *self._paths())
        commits: list[CommitInfo] = []
        for chunk in raw.split(end):
            if not chunk.strip():
                continue
            header, _, body = chunk.partition("\n")
            sha_, parents, author, authored, committed, trailers, subject = header.split(sep, 6)
            approvals = tuple(a.strip() for a in trailers.split("\x1d") if a.strip())
            changes = []
            for line in body.splitlines():
                if not line.startswith(":"):
                    continue
                meta, _, path = line.partition("\t")
                _old_mode, _new_mode, old_blob, new_blob, status = meta[1:].split(" ")
                if not path.startswith(self.prefix):
                    continue
                rel = path[len(self.prefix):]
                changes.append(Change(status[0], rel, None if old_blob == _ZERO else old_blob,
                                      None if new_blob == _ZERO else new_blob))
            commits.append(CommitInfo(sha_, tuple(parents.split()), author, dt.datetime.fromisoformat(authored),
                                      dt.datetime.fromisoformat(committed), subject, tuple(changes), approvals))
        return commits

    def tags(self) -> dict[str, list[str]]:
        """Annotated tags by the commit they point to (labels for versions)."""
        out: dict[str, list[str]] = {}
        for tag in self.repo.tags:
            if tag.tag is None:  # lightweight tag: not a label
                continue
            try:
                out.setdefault(tag.commit.hexsha, []).append(tag.name)
            except ValueError:
                continue
        return out

    def approvals_since(self, base: str) -> list[tuple[str, list[str]]]:
        """(sha, Approved-by trailer values) of every commit in base..HEAD."""
        raw = self.repo.git.log(f"{base}..HEAD", "--format=%H%x1f%(trailers:key=Approved-by,valueonly,separator=%x1d)%x1e")
        out = []
        for chunk in raw.split("\x1e"):
            if chunk.strip():
                sha, _, values = chunk.strip().partition("\x1f")
                out.append((sha, [v for v in values.split("\x1d") if v.strip()]))
        return out

    def dirty(self) -> bool:
        return bool(self.repo.git.status("--porcelain", "--untracked-files=all", "--", *self._paths()).strip())
