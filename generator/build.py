"""`policy build`: validate, then render the site (and, later, the bundle) into --out atomically."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .bundle.write import Signing
from .config import Settings, load_settings, settings_from_text
from .errors import Diagnostic, UsageError, ValidationFailed
from .gcpause import collecting_after, paused_collection
from .gitinfo import SourceRevision, first_parent_count, source_revision
from .history import check_revision, working_files
from .history.changelog import Corpora
from .history.gitrepo import GitSources, GitUnavailable
from .history.versions import timeline
from .procs import fork_sending, received
from .render.history_pages import SiteHistory
from .render.engine import plan_pages
from .render.site import WriteStats, check_output_folder, write_site
from .validate import check_root, check_root_cached


@dataclass(frozen=True, slots=True)
class BuildResult:
    out: Path
    stats: WriteStats
    warnings: tuple
    revision: str


@paused_collection
def build(root: Path, out: Path, *, today: dt.date | None = None,
          memory: dict | None = None, sources: dict | None = None, sign_key: Path | None = None,
          key_id: str = "policy", rev: str | None = None, jobs: int | None = None,
          pdf: bool | None = None, preview: bool = False) -> BuildResult:
    """Build the site (see _build), with cyclic garbage collection paused (gcpause.py). When PDFs
    may be made, their converter processes start first (render/pdf.py), so that they are ready
    when the pages are."""
    from .render.pdf import converting, converters_for
    from .render.pdfcache import caching

    with converting(converters_for(root, rev, pdf, jobs) if memory is None else None), caching(root):
        return _build(root, out, today=today, memory=memory, sources=sources, sign_key=sign_key,
                      key_id=key_id, rev=rev, jobs=jobs, pdf=pdf, preview=preview)


def _build(root: Path, out: Path, *, today: dt.date | None = None,
           memory: dict | None = None, sources: dict | None = None, sign_key: Path | None = None,
           key_id: str = "policy", rev: str | None = None, jobs: int | None = None,
           pdf: bool | None = None, preview: bool = False) -> BuildResult:
    """Build the site for the sources under ``root`` into ``out``.

    Raises ValidationFailed (nothing written) when the sources are invalid, UsageError when
    ``out`` cannot be used. ``memory`` and ``sources`` are caches a long-running caller (the
    preview server) keeps between builds: rendered pages, and checked source files.
    ``sign_key``: a PEM private key; the bundle is then signed (the key never enters the site).
    ``rev``: build the sources as of that git revision, read from git objects. ``pdf``: make the
    PDFs or not (None: as [tool.policy] pdf says). ``preview``: the pages say they are a preview of
    the working tree instead of naming its revision (so that a save or a commit does not change
    every page's footer: the preview renders again only what the edit changed); the bundle still
    records the revision."""
    root, out = Path(root), Path(out)
    signing = None
    if sign_key is not None:
        from .bundle.sign import load_private_key  # (cryptography: imported only to sign)

        key, algorithm = load_private_key(Path(sign_key))
        signing = Signing(key, algorithm, key_id)
    check_output_folder(out, root)
    stages: dict = {}  # the working tree's per-file stages, shared with the models at past commits
    later: list = []  # writing the stage cache back: by a helper process, waited for while the index is made
    try:
        return _checked_build(root, out, today, memory, sources, signing, rev, pdf, jobs, stages, later, preview)
    finally:
        for job in later:
            job()


def _checked_build(root: Path, out: Path, today, memory, sources, signing, rev, pdf, jobs, stages: dict,
                   later: list, preview: bool = False) -> BuildResult:
    blobs: dict[str, bytes] = {}  # git blobs read (blob id -> bytes), for the models at past commits too
    if rev is None:
        result = check_root(root, today=today, cache=sources) if sources is not None else \
            check_root_cached(root, today=today, keep=stages, later=later)
    elif sources is not None:
        result = check_revision(root, rev, today=today, cache=sources)
    else:  # the files it shares with the working tree: checked stages and bytes from there (content-keyed)
        from .validate import stagecache

        stages.update(stagecache.Saved(root))  # (read, never written back: it is the working tree's)
        result = check_revision(root, rev, today=today, cache=stages, known=working_files(root), blobs=blobs)
    later[:] = [_in_background(later)] if later else []  # waited for while the index is made, or at the end
    if result.errors or result.corpus is None:
        raise ValidationFailed(list(result.diagnostics))
    if rev is None:
        settings, revision = load_settings(root), source_revision(root)
    else:
        settings, revision = _at_revision(root, rev)
    if preview:
        revision = dataclasses.replace(revision, preview=True)
    if pdf is not None:
        settings = dataclasses.replace(settings, pdf=pdf)
    translations, found = read_translations(root, rev, result.corpus, settings)
    if settings.search is None:  # not asked for either way: see search_by_default
        settings, said = search_by_default(settings, result.corpus)
        found = found + said
    if settings.pdf is None:  # not asked for either way: see pdf_by_default
        settings, said = pdf_by_default(settings, len(result.corpus.documents))
        found = found + said
    if any(d.severity == "error" for d in found):
        raise ValidationFailed(list(result.diagnostics) + found)
    history = site_history(root, rev or "HEAD", revision, stages or sources, blobs)
    pages = plan_pages(result.corpus, settings, revision, result.digests, signing, history, translations)
    from .render import search

    def meanwhile() -> None:
        while later:
            later.pop(0)()

    stats = write_site(pages, out, memory, seal=history.corpora.seal if history is not None and history.corpora else None,
                       jobs=jobs, finish=search.begin_index if settings.search else search.remove_index,
                       meanwhile=meanwhile)
    return BuildResult(out, stats, tuple(sorted(result.warnings + found)), revision.label)


def _in_background(jobs: list) -> Callable[[], None]:
    """Run ``jobs`` (writing the stage cache back: 0.05 s per 1,000 documents, 0.3 s at 5,000)
    in a forked helper while the build plans and renders (planning leaves a core idle); the
    function returned waits for it, and runs the jobs here when the helper failed or could not
    be made. Only files in the cache folder are written, atomically (stagecache.save)."""
    todo = list(jobs)

    def here() -> None:
        for job in todo:
            job()

    if not hasattr(os, "fork"):
        return here

    def produce() -> bytes:
        here()
        return b"done"

    try:
        pid, pipe = fork_sending(produce)
    except OSError:
        return here

    def wait() -> None:
        if received(pid, pipe) != b"done":
            here()
    return wait


def search_by_default(settings: Settings, corpus) -> tuple[Settings, list[Diagnostic]]:
    """Search when neither [tool.policy] search nor a build option says: for sites of up to
    SEARCH_AUTO_DOCUMENTS documents and SEARCH_AUTO_RULES rules. Beyond either, indexing would
    add seconds to every full build (the shards bound its memory, not its time); the build says so."""
    from .render.search import SEARCH_AUTO_DOCUMENTS, SEARCH_AUTO_RULES

    documents, rules = len(corpus.documents), len(corpus.rules)
    if documents > SEARCH_AUTO_DOCUMENTS:
        why = f"{documents:,} documents are more than {SEARCH_AUTO_DOCUMENTS:,}"
    elif rules > SEARCH_AUTO_RULES:
        why = f"{rules:,} rules are more than {SEARCH_AUTO_RULES:,}"
    else:
        return dataclasses.replace(settings, search=True), []
    return dataclasses.replace(settings, search=False), [Diagnostic(
        "pyproject.toml", 0, 0, f"the site has no search: {why} (indexing takes about 1.2 s of CPU per 1,000 "
        f"documents of 10 rules, and added 4 s to a build of 100,000 rules); search = true in "
        f"[tool.policy] builds it", "note")]


def pdf_by_default(settings: Settings, documents: int) -> tuple[Settings, list[Diagnostic]]:
    """PDFs when neither [tool.policy] pdf nor --pdf/--no-pdf says: made for sites of up to
    PDF_AUTO_DOCUMENTS documents where WeasyPrint and Pango are installed. Beyond, they would take
    most of the build (benchmarks/bench_readers.py), so they are opt-in; the build says so."""
    from .render.pdf import PDF_AUTO_DOCUMENTS, available

    if documents > PDF_AUTO_DOCUMENTS:
        return dataclasses.replace(settings, pdf=False), [Diagnostic(
            "pyproject.toml", 0, 0, f"no PDFs were made: {documents:,} documents are more than "
            f"{PDF_AUTO_DOCUMENTS} (their PDFs would take most of the build); pdf = true in [tool.policy] "
            f"or policy build --pdf makes them", "note")]
    missing = available()
    if missing is not None:
        return dataclasses.replace(settings, pdf=False), [Diagnostic(
            "pyproject.toml", 0, 0, f"the site was built without PDFs: {missing} (pdf = true makes this an error)",
            "warning")]
    return dataclasses.replace(settings, pdf=True), []


def read_translations(root: Path, rev: str | None, corpus, settings: Settings):
    """The translations of the working tree (rev None) or of a revision, compared with ``corpus``."""
    from .translate import check_translations, translations_from_files

    if rev is None:
        return check_translations(root, corpus, settings)
    with GitSources(root) as sources:
        files = sources.translations_at(rev)
    return translations_from_files(files, corpus, settings)


def _at_revision(root: Path, rev: str) -> tuple[Settings, SourceRevision]:
    with GitSources(root) as sources:
        sha = sources.resolve(rev)
        pyproject = sources.pyproject_at(sha)
        when = sources.repo.commit(sha).committed_datetime.astimezone(dt.timezone.utc)
        sequence = first_parent_count(sources.repo, sha)
    settings = settings_from_text(pyproject.decode("utf-8", "replace")) if pyproject is not None else Settings()
    return settings, SourceRevision(sha, False, when.date(), when, sequence)


def as_of_date(revision: SourceRevision) -> dt.date:
    """The day statuses (in force, scheduled) are computed for: SOURCE_DATE_EPOCH when set, else
    the built commit's date, so the same revision always builds the same pages."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    if revision.committed is not None:
        return revision.committed
    return dt.datetime.now(dt.timezone.utc).date()


@collecting_after
def site_history(root: Path, rev: str, revision: SourceRevision, stages: dict | None = None,
                 blobs: dict[str, bytes] | None = None) -> SiteHistory:
    try:
        with GitSources(root) as sources:
            if not sources.has_commits:
                return SiteHistory(None, None, "No version has been committed yet.")
            shallow = sources.shallow
    except GitUnavailable:
        return SiteHistory(None, None, "git was not available when this site was built, so there is no version history.")
    except UsageError:
        return SiteHistory(None, None, "The sources are not in a git repository, so there is no version history.")
    line = timeline(root, rev, as_of=as_of_date(revision), reuse=stages)
    note = "This history is incomplete: it was built from a shallow clone." if shallow else ""
    return SiteHistory(line, Corpora(root, stages, blobs), note)
