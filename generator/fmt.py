"""`policy fmt`: one canonical layout for the source files, so that diffs show wording, not
whitespace.

ruamel.yaml reads and writes each file round trip: comments, key order, quoting and block
styles (`|`, `>`) stay as the author chose them; indentation becomes two spaces for mappings and
list items indented under their key (`  - id: ...`); long plain and quoted text is wrapped at 100
columns; trailing spaces go. Literal blocks (`|`) keep their lines: their line breaks are part
of the text.

Never changes meaning: a file is written only when its formatted text reads back (with the
checker's own YAML 1.2 loader) to exactly the same values; otherwise it is left as it is and
named. A file that does not parse is not touched (its error is reported). Writing is atomic
(a temporary file renamed over the old one), so an interrupted run leaves every file whole.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .cachedir import cache_location
from .errors import Diagnostic, SourceError, UsageError
from .load import RawFile, load_yaml, read_tree
from .load.files import EXCEPTIONS_DIR, MODELS_FILE, POLICY_DIR, decode, kind_of

WIDTH = 100


@dataclass
class FmtResult:
    changed: list[str] = field(default_factory=list)  # files reformatted (or, with check, to be)
    problems: list[Diagnostic] = field(default_factory=list)


def _yaml():
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = WIDTH
    return y


def format_text(text: str) -> str:
    """The canonical layout of one YAML text (raises ruamel's errors on text it cannot read)."""
    y = _yaml()
    data = y.load(text)
    out = io.StringIO()
    y.dump(data, out)
    return "\n".join(line.rstrip() for line in out.getvalue().split("\n"))


def fmt_root(root: Path, *, check: bool = False, use_cache: bool = True,
             paths: Sequence[Path] = ()) -> FmtResult:
    """Format every source file under ``root`` (with ``check``, only say which would change), or
    only those of ``paths`` (files, or the root's policy/ or exceptions/ folder; relative to the
    current folder, as a shell gives them): what a pre-commit hook or an editor passes, so that a
    commit of one file costs one file's formatting.

    Round-trip YAML is slow (about 7 ms per 6 KB file), so the SHA-256 of every file found in
    the canonical layout is remembered beside the other caches (content-keyed, per tool version,
    safe to delete): an unchanged file is not formatted again; the others are formatted by one
    process per CPU (forkmap.py), and written here. Raises UsageError for a path that is not a
    source file of ``root``."""
    only = _selection(Path(root), paths) if paths else None
    files, problems = read_tree(Path(root), only)
    result = FmtResult(problems=list(problems))
    known = _load_known(Path(root)) if use_cache else set()
    canonical: set[str] = set()
    todo = []
    for raw in files:
        digest = hashlib.sha256(raw.data).hexdigest()
        if digest in known:
            canonical.add(digest)
        else:
            todo.append(raw)
    from .forkmap import fork_map

    for raw, (outcome, detail) in zip(todo, fork_map(_examine, todo)):  # files are formatted in parallel
        if outcome == "problem":
            result.problems.append(Diagnostic(*detail))
        elif outcome == "canonical":
            canonical.add(hashlib.sha256(raw.data).hexdigest())
        elif outcome == "changed":
            result.changed.append(raw.path)
            if not check:
                _write(Path(root) / raw.path, detail)
                canonical.add(hashlib.sha256(detail.encode("utf-8")).hexdigest())
    if only is not None:  # the other files' entries stay (a full run drops those of old texts)
        canonical |= known
    if use_cache and canonical != known:
        _save_known(Path(root), canonical)
    return result


_ALLOWED = (f"give source files ({MODELS_FILE}, {POLICY_DIR}/<document>.yaml, {EXCEPTIONS_DIR}/<id>.yaml), "
            f"the {POLICY_DIR}/ or {EXCEPTIONS_DIR}/ folder, or nothing for every source file")


def _selection(root: Path, paths: Sequence[Path]) -> Callable[[str], bool]:
    """Which root-relative source paths ``paths`` name (UsageError for one that names none)."""
    real_root = root.resolve()
    files: set[str] = set()
    folders: set[str] = set()
    for given in paths:
        if not given.exists() and not given.is_symlink():
            raise UsageError(f"{given}: no such file; {_ALLOWED}")
        where = given.resolve() if given.is_dir() else given.absolute().parent.resolve() / given.name
        try:
            rel = where.relative_to(real_root).as_posix()
        except ValueError:
            raise UsageError(f"{given}: not under the policy root {root} (--root); {_ALLOWED}") from None
        if given.is_dir():
            if rel not in (".", POLICY_DIR, EXCEPTIONS_DIR):
                raise UsageError(f"{given}: this folder holds no source files; {_ALLOWED}")
            folders.add("" if rel == "." else rel + "/")
        elif kind_of(rel) is None and not (rel.endswith(".yml") and rel.rpartition("/")[0] in (POLICY_DIR, EXCEPTIONS_DIR)):
            raise UsageError(f"{given}: not a source file; {_ALLOWED}")
        else:
            files.add(rel)
    return lambda rel: rel in files or any(rel.startswith(folder) for folder in folders)


_CACHE = f"fmt-{__version__}.json"


def _load_known(root: Path) -> set[str]:
    try:
        data = json.loads((cache_location(root) / _CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {d for d in data if isinstance(d, str) and len(d) == 64} if isinstance(data, list) else set()


def _save_known(root: Path, digests: set[str]) -> None:
    try:
        folder = cache_location(root)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{_CACHE}.{os.getpid()}"
        tmp.write_text(json.dumps(sorted(digests)), encoding="utf-8")
        os.replace(tmp, folder / _CACHE)
    except OSError:
        pass  # only a cache


def _examine(raw: RawFile) -> tuple[str, object]:
    """What formatting one file would do, as JSON values (so that a forked process can say it):
    ("canonical", None), ("same", None) (canonical but for its bytes, e.g. a byte order mark, so
    not remembered), ("changed", new text), or ("problem", the diagnostic's fields)."""
    try:
        text = decode(raw)
        before = load_yaml(text, raw.path)
    except SourceError as exc:
        return "problem", _fields(exc.diagnostic)
    try:
        new = format_text(text)
    except Exception as exc:  # noqa: BLE001 - ruamel's own errors: our loader read it, so report and leave it
        return "problem", _fields(Diagnostic(raw.path, 0, 0, f"cannot be formatted ({type(exc).__name__}); "
                                                             f"left as it is"))
    if new == text:
        return ("canonical" if raw.data == text.encode("utf-8") else "same"), None
    try:
        after = load_yaml(new, raw.path)
    except SourceError:
        after = object()
    if after != before:
        return "problem", _fields(Diagnostic(raw.path, 0, 0, "formatting would change what this file says; left "
                                                             "as it is (please report it: policy fmt must never "
                                                             "change meaning)"))
    return "changed", new


def _fields(d: Diagnostic) -> list:
    return [d.path, d.line, d.col, d.message, d.severity]


def _write(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".fmt", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
