"""Validate: read every source, check structure and invariants, collect *all* findings, then stop.

``check_root`` never raises for bad sources: it returns every diagnostic. ``load_corpus`` is what
later stages (build, bundle) call: it returns the model or raises ``ValidationFailed``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Callable, cast
from dataclasses import dataclass, field
from pathlib import Path

from ..config import load_settings
from ..errors import Diagnostic, SourceError, ValidationFailed
from ..gcpause import paused_collection
from ..load import KIND_DOCUMENT, KIND_EXCEPTION, KIND_MODELS, ParsedFile, PosDict, RawFile, parse, read_tree
from ..model import Corpus, build_document, build_exception, build_models
from .invariants import check_documents, check_exception, check_models, check_replacements
from .links import check_prose, resolve_anchors
from .shared import stage_files
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


def check_root(root: Path, *, today: dt.date | None = None, cache: dict | None = None,
               tree: tuple[list[RawFile], list[Diagnostic]] | None = None) -> CheckResult:
    """Check the sources under ``root`` (the folder holding policy/ and exceptions/).

    ``cache``: an empty dict kept between calls (by a long-running preview) so that files whose
    bytes did not change are not parsed and checked again. ``tree``: read_tree(root), when the
    caller has read it already."""
    files, problems = tree if tree is not None else read_tree(Path(root))
    try:
        load_settings(Path(root))
    except ValidationFailed as exc:
        problems = problems + exc.diagnostics
    return check_files(files, problems, today=today, cache=cache)


@paused_collection
def check_root_cached(root: Path, *, today: dt.date | None = None, keep: dict | None = None,
                      later: list[Callable[[], None]] | None = None) -> CheckResult:
    """check_root, with the per-file stages kept between commands (validate/stagecache.py): only
    files whose bytes changed are parsed and checked again; the cross-file checks always run.

    ``keep``: a dict that receives the per-file stages, so that a check of another revision
    (the published-id check) reuses them for the files it shares with the working tree.
    ``later``: when given, writing the stage cache back (0.05 s per 1,000 documents) is not done
    here but appended to it, for the caller to run when it waits anyway (the build: while its
    search index is made); the caller must run it, even when it fails."""
    from concurrent.futures import ThreadPoolExecutor

    from . import stagecache

    with ThreadPoolExecutor(1) as pool:  # the files are read (system calls) while the cache decodes
        reading = pool.submit(read_tree, Path(root))
        stages = stagecache.load(Path(root))
        tree = reading.result()
    before = set(stages)
    result = check_root(root, today=today, cache=stages, tree=tree)
    if set(stages) != before:
        if later is None:
            stagecache.save(Path(root), stages)
        else:
            later.append(lambda: stagecache.save(Path(root), stages))
    if keep is not None:
        keep.update(stages)
    return result


def _load(raw: RawFile) -> tuple[list[Diagnostic], object | None]:
    """Parse, check against the schema and build the model object of one file (None when it
    does not load or breaks its schema), with what was found on the way."""
    found, obj, _parsed = _load_parsed(raw)
    return found, obj


def _load_parsed(raw: RawFile) -> tuple[list[Diagnostic], object | None, ParsedFile | None]:
    try:
        parsed = parse(raw)
    except SourceError as exc:
        return [exc.diagnostic], None, None
    found = check_structure(parsed)
    if any(d.severity == "error" for d in found):
        return found, None, parsed
    if raw.kind == KIND_MODELS:
        return found, tuple(build_models(raw.path, cast(PosDict, parsed.value))), parsed
    builder = build_document if raw.kind == KIND_DOCUMENT else build_exception
    return found, builder(raw.path, cast(PosDict, parsed.value)), parsed


def _file_stage(raw: RawFile) -> tuple[list[Diagnostic], object | None, list]:
    """Everything that depends on one file's bytes alone (so a preview can keep it while the
    file does not change): the model object, and the checks of its prose."""
    return file_stage_parsed(raw)[0]


def file_stage_parsed(raw: RawFile, prose_memo: dict | None = None) -> tuple[tuple, ParsedFile | None]:
    """_file_stage's result, and the parsed file (for a caller that reads the next version of a
    document from this one: history/incremental.py); ``prose_memo``: see check_prose."""
    found, obj, parsed = _load_parsed(raw)
    if obj is None or raw.kind == KIND_MODELS:
        return (found, obj, []), parsed
    prose_problems, refs = check_prose(cast(Any, obj), prose_memo)
    return (found + prose_problems, obj, refs), parsed


def model_stage(raw: RawFile) -> object | None:
    """Just the model object of one file (None when it does not load or fails its schema)."""
    return _load(raw)[1]


def model_stage_with_error(raw: RawFile) -> tuple[object | None, Diagnostic | None]:
    """The model object of one file, or None and the first error that stopped it."""
    obj, error, _parsed = model_stage_parsed(raw)
    return obj, error


def model_stage_parsed(raw: RawFile) -> tuple[object | None, Diagnostic | None, ParsedFile | None]:
    """model_stage_with_error, and the parsed file (its positioned values and text) when it
    parsed."""
    found, obj, parsed = _load_parsed(raw)
    if obj is not None:
        return obj, None, parsed
    errors = sorted(d for d in found if d.severity == "error")
    return None, errors[0] if errors else Diagnostic(raw.path, 0, 0, "the file does not load"), parsed


@paused_collection
def check_files(files: list[RawFile], problems: list[Diagnostic] | None = None, *,
                today: dt.date | None = None, cache: dict | None = None,
                stage: Callable[[RawFile], tuple] | None = None) -> CheckResult:
    """Check already-read source files (from the working tree or from a git revision). ``stage``:
    the per-file stage to use instead of _file_stage (the same result for the same bytes)."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    diagnostics: list[Diagnostic] = list(problems or ())
    documents: list[Any] = []
    models: list[Any] = []
    exceptions: list[Any] = []
    complete = not any(d.path.startswith("policy/") for d in diagnostics)
    digests = {raw.path: hashlib.sha256(raw.data).hexdigest() for raw in files}
    fresh: dict = {}
    refs: list = []
    todo = [((raw.path, digests[raw.path]), raw) for raw in files]
    staged_now = stage_files([(key, raw) for key, raw in todo if cache is None or key not in cache],
                             stage or _file_stage)
    for key, raw in todo:
        staged = staged_now[key] if key in staged_now else cast(dict, cache)[key]
        fresh[key] = staged
        found, obj, file_refs = staged
        diagnostics += found
        refs += file_refs
        if obj is None:
            complete = complete and raw.kind == KIND_EXCEPTION
        elif raw.kind == KIND_DOCUMENT:
            documents.append(obj)
        elif raw.kind == KIND_MODELS:
            models.extend(cast(Any, obj))
        else:
            exceptions.append(obj)
    if cache is not None:  # keep only what the current files need
        cache.clear()
        cache.update(fresh)
    diagnostics += check_documents(documents)
    corpus = Corpus.of(documents, models, exceptions)
    diagnostics += check_models(corpus)
    if complete:
        diagnostics += check_replacements(corpus)
    for exc in exceptions:
        diagnostics += check_exception(exc, corpus, today, complete)
    if complete:
        diagnostics += resolve_anchors(refs, corpus)
    diagnostics.sort()
    usable = corpus if documents or models or exceptions else None
    return CheckResult(usable, tuple(diagnostics), len(files), digests)


def load_corpus(root: Path, *, today: dt.date | None = None, strict: bool = False) -> Corpus:
    """The validated model of ``root``; raises ValidationFailed listing every problem. Files whose
    bytes were checked before come from the stage cache (stagecache.py)."""
    result = check_root_cached(root, today=today)
    if not result.ok(strict) or result.corpus is None:
        raise ValidationFailed(list(result.diagnostics))
    return result.corpus
