"""Find the source files under a policy root and read them safely.

Reading is separate from parsing so that the same parser can later read sources from git
objects (a past revision) instead of the working tree.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import Diagnostic, SourceError, UsageError
from .yamlpos import PosDict, load_yaml

#: Largest source file accepted, in bytes. A policy document of 1,000 rules is about 500 KB.
MAX_FILE_BYTES = 2 * 1024 * 1024

POLICY_DIR = "policy"
EXCEPTIONS_DIR = "exceptions"
MODELS_FILE = "policy/models.yaml"

KIND_DOCUMENT = "document"
KIND_MODELS = "models"
KIND_EXCEPTION = "exception"


@dataclass(frozen=True, slots=True)
class RawFile:
    """A source file's path (relative to the root, with '/') and its bytes."""

    path: str
    kind: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ParsedFile:
    path: str
    kind: str
    value: object  # PosDict for a well-formed file
    text: str | None = None  # the file's text, when known (lets checks skip what it cannot hold)


def kind_of(path: str) -> str | None:
    """Which kind of source a root-relative path is, or None when it is not a source."""
    if path == MODELS_FILE:
        return KIND_MODELS
    folder, _, name = path.rpartition("/")
    if not name.endswith(".yaml") or name.startswith("."):
        return None
    if folder == POLICY_DIR:
        return KIND_DOCUMENT
    if folder == EXCEPTIONS_DIR:
        return KIND_EXCEPTION
    return None


def read_tree(root: Path, only: Callable[[str], bool] | None = None) -> tuple[list[RawFile], list[Diagnostic]]:
    """Read every source file under ``root``; problems with files come back as diagnostics.

    With ``only``, just the files whose root-relative path it accepts (and no diagnostics about
    the tree as a whole: no documents, no models file).
    Raises :class:`UsageError` when ``root`` itself is not a readable folder.
    """
    if not root.exists():
        raise UsageError(f"{root}: no such folder; pass --root with the folder that holds policy/")
    if not root.is_dir():
        raise UsageError(f"{root}: not a folder; pass --root with the folder that holds policy/")
    real_root = root.resolve()
    files: list[RawFile] = []
    problems: list[Diagnostic] = []
    if not (root / POLICY_DIR).is_dir():
        problems.append(Diagnostic(POLICY_DIR + "/", 0, 0,
                                   "no policy folder here; a policy root holds policy/<document>.yaml, "
                                   "policy/models.yaml and exceptions/<id>.yaml (use --root to point at it)"))
        return files, problems
    for folder in (POLICY_DIR, EXCEPTIONS_DIR):
        base = root / folder
        if not base.is_dir():
            continue
        inside = base.resolve().is_relative_to(real_root)  # the folder itself is not a link out
        with os.scandir(base) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        for entry in entries:
            rel = f"{folder}/{entry.name}"
            if only is not None and not only(rel):
                continue
            if entry.name.endswith(".yml"):
                problems.append(Diagnostic(rel, 0, 0, "source files must end in .yaml, not .yml; "
                                                      f"rename it to {entry.name[:-4]}.yaml"))
                continue
            kind = kind_of(rel)
            if kind is None:
                continue
            try:
                if inside and not entry.is_symlink():
                    data = _read_plain(Path(entry.path), rel)  # no link to follow: no resolve() needed
                else:
                    data = _read(Path(entry.path), rel, real_root)
                files.append(RawFile(rel, kind, data))
            except SourceError as exc:
                problems.append(exc.diagnostic)
    if only is not None:
        return files, problems
    if not any(f.kind == KIND_DOCUMENT for f in files) and not problems:
        problems.append(Diagnostic(POLICY_DIR + "/", 0, 0,
                                   "no policy documents found; add at least one policy/<document>.yaml"))
    if not (root / MODELS_FILE).exists() and not (root / MODELS_FILE).is_symlink():
        problems.append(Diagnostic(MODELS_FILE, 0, 0,
                                   "missing: list the models and their AI Safety Levels in policy/models.yaml"))
    return files, problems


def _read_plain(path: Path, rel: str) -> bytes:
    """A file that is not a link, in a folder inside the root: opened without following links.
    Read with the descriptor alone (open, fstat, read, close): a buffered file object adds three
    system calls a file, a tenth of reading 10,000 sources."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a link meanwhile
            raise SourceError(rel, 0, 0, "this file is a link; copy the file in instead of linking to it") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(rel, 0, 0, "not a regular file; a source must be a YAML text file")
        if info.st_size > MAX_FILE_BYTES:
            raise SourceError(rel, 0, 0, f"file is too large ({info.st_size:,} bytes; the limit is "
                                         f"{MAX_FILE_BYTES:,}); split it into several documents")
        data = os.read(fd, info.st_size + 1)  # one byte more than its size: whether it grew
        if len(data) != info.st_size:  # it changed meanwhile (or a short read): read on to its end
            chunks, total = [data], len(data)
            while total <= MAX_FILE_BYTES and (chunk := os.read(fd, 65536)):
                chunks.append(chunk)
                total += len(chunk)
            data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:  # grew while we looked
        raise SourceError(rel, 0, 0, f"file is too large (over {MAX_FILE_BYTES:,} bytes); split it")
    return data


def _read(entry: Path, rel: str, real_root: Path) -> bytes:
    real = entry.resolve()
    if not real.is_relative_to(real_root):
        raise SourceError(rel, 0, 0, "this file is a link to a place outside the policy folder; "
                                     "copy the file in instead of linking to it")
    if not real.is_file():
        raise SourceError(rel, 0, 0, "not a regular file; a source must be a YAML text file")
    size = real.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SourceError(rel, 0, 0, f"file is too large ({size:,} bytes; the limit is "
                                     f"{MAX_FILE_BYTES:,}); split it into several documents")
    with open(real, "rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:  # grew while we looked
        raise SourceError(rel, 0, 0, f"file is too large (over {MAX_FILE_BYTES:,} bytes); split it")
    return data


def decode(raw: RawFile) -> str:
    """The file's text; non-UTF-8 bytes are an error located at the first bad byte."""
    data = raw.data
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = len(data[data.rfind(b"\n", 0, exc.start) + 1:exc.start].decode("utf-8", "replace")) + 1
        raise SourceError(raw.path, line, col,
                          f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} here); save it "
                          f"as UTF-8 in your editor (File > Save with Encoding > UTF-8)") from None


def parse(raw: RawFile) -> ParsedFile:
    """Decode and parse one file. Raises :class:`SourceError`."""
    text = decode(raw)
    value = load_yaml(text, raw.path)
    if value is None:
        raise SourceError(raw.path, 1, 1, "the file is empty; see docs/source-format.md for what it must hold"
                          if raw.kind != KIND_EXCEPTION else
                          "the file is empty; run 'policy new exception ID' for a skeleton to fill in")
    if not isinstance(value, PosDict):
        line, col = getattr(value, "pos", (1, 1))
        what = "a list" if isinstance(value, list) else f"a single value ({str(value)[:40]!r})"
        raise SourceError(raw.path, line, col, f"the file must be a set of 'key: value' lines "
                                               f"(id: ..., title: ...), not {what}")
    return ParsedFile(raw.path, raw.kind, value, text)
