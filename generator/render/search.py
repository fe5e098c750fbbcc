"""The site's search index: Pagefind (its binary from the pagefind_bin package), run over the
rendered pages in the build's temporary folder, before the swap. It indexes what the pages mark
with data-pagefind-body (documents and exceptions pages, in every language; not versions,
whose old text would answer with what no longer applies), one index per language (from
<html lang>), loaded in chunks by the browser, so the index a reader downloads stays small as
the site grows. Pagefind's output is deterministic; the index is only rebuilt when a page it
reads changed (a digest of their fingerprints is kept at the site root in .search)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping

from ..bundle.errors import PackagingError
from ..errors import PolicyError

SEARCH_DIR = "pagefind"
STAMP = ".search"
# What search.js loads; Pagefind's own prebuilt interfaces (about 400 KB) are not used
KEEP_FILES = ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json")
KEEP_SUFFIXES = (".pf_meta", ".pagefind")
KEEP_DIRS = ("index", "fragment")


#: Sites of more documents, or more rules, get search only when asked (search = true): Pagefind
#: holds every indexed page in memory, about 190 MB and 1.2 s per 1,000 documents of 10 rules,
#: and 1.07 GB for 1,000 documents of 100 rules (docs/benchmarks.md): past either limit a build
#: would go past a gigabyte.
SEARCH_AUTO_DOCUMENTS = 2000
SEARCH_AUTO_RULES = 50_000


class SearchIndexFailed(PolicyError):
    """Pagefind could not index the site (its message is included)."""


def executable() -> Path:
    try:
        import pagefind_bin  # type: ignore[import-untyped]
    except ImportError:
        raise PackagingError("the search indexer is missing: install the package with its dependencies "
                             "(pip install pagefind_bin), or set search = false in [tool.policy]") from None
    try:
        return Path(pagefind_bin.get_executable())
    except (FileNotFoundError, OSError) as exc:
        raise PackagingError(f"the search indexer's binary is missing from pagefind_bin: {exc}") from None


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as installed

    try:
        return installed("pagefind_bin")
    except PackageNotFoundError:
        return "unknown"


def inputs_digest(fingerprints: Mapping[str, str]) -> str:
    h = hashlib.sha256(f"pagefind {version()}\0".encode())
    for path in sorted(fingerprints):
        if path.endswith(".html"):
            h.update(f"{path}\0{fingerprints[path]}\0".encode())
    return h.hexdigest()


def index_site(tmp: Path, fingerprints: Mapping[str, str], previous: Path) -> bool:
    """Build tmp/pagefind/ (or keep or link the one built from the same pages); True when
    Pagefind ran."""
    digest = inputs_digest(fingerprints)
    stamp, bundle = tmp / STAMP, tmp / SEARCH_DIR
    if _stamp(stamp) == digest and bundle.is_dir():
        return False  # the spare tree already holds this very index
    stamp.unlink(missing_ok=True)
    shutil.rmtree(bundle, ignore_errors=True)
    if _stamp(previous / STAMP) == digest and (previous / SEARCH_DIR).is_dir():
        try:
            shutil.copytree(previous / SEARCH_DIR, bundle, copy_function=_link)
            stamp.write_text(digest + "\n", encoding="utf-8")
            return False
        except OSError:
            shutil.rmtree(bundle, ignore_errors=True)
    _run(tmp)
    _prune(bundle)
    _canonical_entry(bundle / "pagefind-entry.json")
    stamp.write_text(digest + "\n", encoding="utf-8")
    return True


def remove_index(tmp: Path, fingerprints: Mapping[str, str], previous: Path) -> bool:
    """With search = false: no index (the spare tree may hold one from an earlier build)."""
    (tmp / STAMP).unlink(missing_ok=True)
    shutil.rmtree(tmp / SEARCH_DIR, ignore_errors=True)
    return False


def _run(site: Path) -> None:
    # only the pages that can be indexed (a document or exceptions page, in a language's tree):
    # the versions/ pages, as many as the versions, are not even read
    command = [str(executable()), "--site", str(site), "--output-subdir", SEARCH_DIR, "--silent",
               "--glob", "{*/index.html,*/*/index.html}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                              env={**os.environ, "PAGEFIND_SITE": str(site)})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SearchIndexFailed(f"the search index could not be built: {exc}") from None
    if done.returncode != 0:
        raise SearchIndexFailed("the search index could not be built (pagefind): "
                                + (done.stderr or done.stdout).strip()[-2000:])


def _canonical_entry(path: Path) -> None:
    """Pagefind writes its languages in hash-map order, which changes from run to run: sorted,
    so the same pages always give the same bytes (pagefind.js reads it as JSON)."""
    import json

    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data.get("languages"), dict):
        data["languages"] = dict(sorted(data["languages"].items()))
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def _prune(bundle: Path) -> None:
    for entry in bundle.iterdir():
        if entry.is_dir():
            if entry.name not in KEEP_DIRS:
                shutil.rmtree(entry)
        elif entry.name not in KEEP_FILES and not entry.name.endswith(KEEP_SUFFIXES):
            entry.unlink()


def _stamp(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
