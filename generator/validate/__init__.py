"""Validate: read every source, check structure and invariants, collect *all* findings, then stop.

``check_root`` never raises for bad sources: it returns every diagnostic. ``load_corpus`` is what
later stages (build, bundle) call: it returns the model or raises ``ValidationFailed``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..config import load_settings
from ..errors import Diagnostic, SourceError, ValidationFailed
from ..load import KIND_DOCUMENT, KIND_EXCEPTION, KIND_MODELS, RawFile, parse, read_tree
from ..model import Corpus, build_document, build_exception, build_models
from .invariants import check_documents, check_exception, check_models, check_replacements
from .links import check_links
from .structure import check_structure

__all__ = ["CheckResult", "check_files", "check_root", "load_corpus"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    corpus: Corpus | None  # None when no usable model could be built
    diagnostics: tuple[Diagnostic, ...]  # sorted by path, line, column
    files: int
    digests: dict[str, str] = field(default_factory=dict, compare=False)  # path -> sha256 of its bytes

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def ok(self, strict: bool = False) -> bool:
        return not self.errors and not (strict and self.warnings)


def check_root(root: Path, *, today: dt.date | None = None) -> CheckResult:
    """Check the sources under ``root`` (the folder holding policy/ and exceptions/)."""
    files, problems = read_tree(Path(root))
    try:
        load_settings(Path(root))
    except ValidationFailed as exc:
        problems = problems + exc.diagnostics
    return check_files(files, problems, today=today)


def check_files(files: list[RawFile], problems: list[Diagnostic] | None = None, *,
                today: dt.date | None = None) -> CheckResult:
    """Check already-read source files (from the working tree or from a git revision)."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    diagnostics: list[Diagnostic] = list(problems or ())
    documents, models, exceptions = [], [], []
    complete = not any(d.path.startswith("policy/") for d in diagnostics)
    digests = {raw.path: hashlib.sha256(raw.data).hexdigest() for raw in files}
    for raw in files:
        try:
            parsed = parse(raw)
        except SourceError as exc:
            diagnostics.append(exc.diagnostic)
            complete = complete and raw.kind == KIND_EXCEPTION
            continue
        found = check_structure(parsed)
        diagnostics += found
        if any(d.severity == "error" for d in found):
            complete = complete and raw.kind == KIND_EXCEPTION
            continue
        if raw.kind == KIND_DOCUMENT:
            documents.append(build_document(raw.path, parsed.value))
        elif raw.kind == KIND_MODELS:
            models.extend(build_models(raw.path, parsed.value))
        else:
            exceptions.append(build_exception(raw.path, parsed.value))
    diagnostics += check_documents(documents)
    corpus = Corpus.of(documents, models, exceptions)
    diagnostics += check_models(corpus)
    if complete:
        diagnostics += check_replacements(corpus)
    for exc in exceptions:
        diagnostics += check_exception(exc, corpus, today, complete)
    diagnostics += check_links(corpus, complete)
    diagnostics.sort()
    usable = corpus if documents or models or exceptions else None
    return CheckResult(usable, tuple(diagnostics), len(files), digests)


def load_corpus(root: Path, *, today: dt.date | None = None, strict: bool = False) -> Corpus:
    """The validated model of ``root``; raises ValidationFailed listing every problem."""
    result = check_root(root, today=today)
    if not result.ok(strict) or result.corpus is None:
        raise ValidationFailed(list(result.diagnostics))
    return result.corpus
