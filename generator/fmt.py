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

import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Diagnostic, SourceError
from .load import RawFile, load_yaml, read_tree
from .load.files import decode

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


def fmt_root(root: Path, *, check: bool = False) -> FmtResult:
    """Format every source file under ``root`` (with ``check``, only say which would change)."""
    files, problems = read_tree(Path(root))
    result = FmtResult(problems=list(problems))
    for raw in files:
        _fmt_one(Path(root), raw, check, result)
    return result


def _fmt_one(root: Path, raw: RawFile, check: bool, result: FmtResult) -> None:
    try:
        text = decode(raw)
        before = load_yaml(text, raw.path)
    except SourceError as exc:
        result.problems.append(exc.diagnostic)
        return
    try:
        new = format_text(text)
    except Exception as exc:  # noqa: BLE001 - ruamel's own errors: our loader read it, so report and leave it
        result.problems.append(Diagnostic(raw.path, 0, 0, f"cannot be formatted ({type(exc).__name__}); "
                                                          f"left as it is"))
        return
    if new == text:
        return
    try:
        after = load_yaml(new, raw.path)
    except SourceError:
        after = object()
    if after != before:
        result.problems.append(Diagnostic(raw.path, 0, 0, "formatting would change what this file says; left "
                                                          "as it is (please report it: policy fmt must never "
                                                          "change meaning)"))
        return
    result.changed.append(raw.path)
    if not check:
        _write(root / raw.path, new)


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
