"""The site's search index: Pagefind (its binary from the pagefind_bin package), run over the
rendered pages in the build's temporary folder, before the swap. It indexes what the pages mark
with data-pagefind-body (documents and exceptions pages, in every language; not versions,
whose old text would answer with what no longer applies).

The index is split into shards, so that a rebuild after an edit indexes again only the shard
that holds the edited page, not the whole site (Pagefind has no incremental mode): each language
has its own shards (pagefind/<lang>-w0/, the pages made from the whole policy, one shard each:
the exceptions page; pagefind/<lang>-p<k>/, the documents, spread over 2**n shards of at most
about SHARD_PAGES pages (at most MAX_SHARDS of them: then more pages a shard) by a hash of their
path, so a page stays in its shard as others come and go). pagefind/shards.json lists each language's shards; search.js loads the first one
(which alone keeps Pagefind's script and WebAssembly) and merges the others into it with
Pagefind's own mergeIndex, which ranks the results of all shards together. The browser fetches
only the parts of each shard's index that hold the words searched for.

Each shard is rebuilt only when a page it indexes changed: .search, at the site root, keeps a
digest of each shard's pages (their fingerprints); an unchanged shard is kept from the spare tree
or linked from the previous site. Shards are indexed in parallel (one Pagefind per CPU).
Pagefind's output is deterministic, so the same pages give the same bytes."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import signal
import tempfile
import threading
from pathlib import Path
from typing import IO, Mapping, NamedTuple

from ..bundle.errors import PackagingError
from ..errors import PolicyError

SEARCH_DIR = "pagefind"
STAMP = ".search"
SHARDS = "shards.json"
# What search.js loads; Pagefind's own prebuilt interfaces (about 400 KB) are not used. The
# script, its worker and the WebAssembly are kept in each language's first shard only (the
# shards merged into it use the first one's).
RUNTIME_FILES = ("pagefind.js", "pagefind-worker.js")
RUNTIME_SUFFIXES = (".pagefind",)  # wasm.<lang>.pagefind
KEEP_FILES = ("pagefind-entry.json",)
KEEP_SUFFIXES = (".pf_meta",)
KEEP_DIRS = ("index", "fragment")
_FORMAT = 2

#: Documents per shard, at most about, up to MAX_SHARDS shards a language (then more a shard): a
#: rebuild indexes one shard again (Pagefind took 0.04 s for 64 pages, 0.07 s for 125, 1.2 s for
#: 1,000), while the reader's browser fetches a little of every shard of its language on the first
#: search (its entry, its list of words, and the chunk of the words searched for). At 1,000
#: documents, 16 shards: first search 0.39 s, 58 requests, 519 KB, against 0.25 s, 13 and 215 KB
#: for one index (benchmarks/bench_search.py, on 127.0.0.1).
SHARD_PAGES = 64
MAX_SHARDS = 16
TIMEOUT = 600.0  # seconds one Pagefind may take

#: Sites of more documents, or more rules, get search only when asked (search = true): indexing
#: takes about 1.2 s of CPU per 1,000 documents of 10 rules (docs/benchmarks.md). Shards bound
#: the memory of each Pagefind process (1,000 documents of 100 rules: a 564 MB peak for the
#: whole build, against 1.07 GB with one index), not the time (4 s more at 100,000 rules).
SEARCH_AUTO_DOCUMENTS = 2000
SEARCH_AUTO_RULES = 50_000


class Indexed(NamedTuple):
    """A page the search indexes (write_site gives these to the finish step)."""

    lang: str  # <html lang> of the page: each language has its own shards
    fingerprint: str
    whole: bool  # made from the whole policy (the exceptions page): a shard of its own

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


@functools.cache  # asked once per shard: read from the installed metadata once
def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as installed

    try:
        return installed("pagefind_bin")
    except PackageNotFoundError:
        return "unknown"


def shards_of(indexed: Mapping[str, Indexed]) -> dict[str, list[str]]:
    """Shard name -> the paths of its pages (sorted), each language's shards in the order
    search.js loads them: the whole-policy pages' shards first (the first shard keeps the runtime)."""
    by_lang: dict[str, list[str]] = {}
    for path, page in indexed.items():
        by_lang.setdefault(page.lang, []).append(path)
    shards: dict[str, list[str]] = {}
    for lang in sorted(by_lang):
        paths = sorted(by_lang[lang])
        for i, path in enumerate(p for p in paths if indexed[p].whole):
            shards[f"{lang}-w{i}"] = [path]
        parts = [p for p in paths if not indexed[p].whole]
        count = min(1 << max(0, math.ceil(math.log2(max(1, len(parts)) / SHARD_PAGES))),  # 1, 2, 4, ...
                    MAX_SHARDS)
        buckets: dict[int, list[str]] = {}
        for path in parts:
            buckets.setdefault(int(hashlib.sha256(path.encode()).hexdigest()[:8], 16) % count, []).append(path)
        for k in sorted(buckets):
            shards[f"{lang}-p{k}"] = buckets[k]
    return shards


def _languages(shards: Mapping[str, list[str]], indexed: Mapping[str, Indexed]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, paths in shards.items():
        found.setdefault(indexed[paths[0]].lang, []).append(name)
    return found


def _shard_digest(name: str, paths: list[str], indexed: Mapping[str, Indexed], primary: bool) -> str:
    h = hashlib.sha256(f"pagefind {version()}\0{_FORMAT}\0{name}\0{primary}\0".encode())
    for path in paths:
        h.update(f"{path}\0{indexed[path].fingerprint}\0".encode())
    return h.hexdigest()


def begin_index(tmp: Path, indexed: Mapping[str, Indexed], previous: Path, jobs: int | None = None) -> "Indexing":
    """Begin building tmp/pagefind/: each shard kept (the spare tree holds it), linked from the
    previous site, or indexed again when one of its pages changed, by Pagefind processes that run
    while the caller renders the pages that are not indexed (write_site); ``wait()`` ends it."""
    shards = shards_of(indexed)
    languages = _languages(shards, indexed)
    primaries = {names[0] for names in languages.values()}
    digests = {name: _shard_digest(name, paths, indexed, name in primaries) for name, paths in shards.items()}
    here, before = _stamps(tmp / STAMP), _stamps(previous / STAMP)
    bundle = tmp / SEARCH_DIR
    (tmp / STAMP).unlink(missing_ok=True)
    if bundle.is_dir():  # the spare tree's index: keep only the shards that are still right
        for entry in bundle.iterdir():
            if entry.name != SHARDS and not (entry.is_dir() and entry.name in digests
                                             and here.get(entry.name) == digests[entry.name]):
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    bundle.mkdir(exist_ok=True)
    todo = []
    for name, digest in digests.items():
        target = bundle / name
        if target.is_dir():
            continue
        if before.get(name) == digest and (previous / SEARCH_DIR / name).is_dir():
            try:
                shutil.copytree(previous / SEARCH_DIR / name, target, copy_function=_link)
                continue
            except OSError:
                shutil.rmtree(target, ignore_errors=True)
        todo.append(name)

    def done() -> None:
        for name in todo:
            _prune(bundle / name, runtime=name in primaries)
            _canonical_entry(bundle / name / "pagefind-entry.json")
        _put(bundle / SHARDS, (json.dumps(languages, sort_keys=True, separators=(",", ":")) + "\n").encode(),
             previous / SEARCH_DIR / SHARDS)
        (tmp / STAMP).write_text(json.dumps({"format": _FORMAT, "shards": digests}, sort_keys=True, indent=0)
                                 + "\n", encoding="utf-8")

    return Indexing(tmp, [(name, shards[name]) for name in todo], jobs or os.cpu_count() or 1, done)


class Indexing:
    """Pagefind processes indexing shards, at most ``jobs`` at a time (each is a process of its
    own, started at once; no threads, so the caller may still fork its render workers)."""

    def __init__(self, site: Path, shards: list[tuple[str, list[str]]], jobs: int, done) -> None:
        self.site, self.waiting, self.jobs, self.done = site, list(shards), max(1, jobs), done
        self.running: list[tuple[str, subprocess.Popen, IO[bytes]]] = []
        try:
            self._start()
        except BaseException:
            self.cancel()
            raise

    def _start(self) -> None:
        while self.waiting and len(self.running) < self.jobs:
            name, paths = self.waiting.pop(0)
            self.running.append((name, *_spawn(self.site, name, paths)))

    def wait(self) -> None:
        """Wait for every shard. SearchIndexFailed when one failed."""
        try:
            while self.running:
                name, proc, output = self.running.pop(0)
                # a blocking wait (Popen.wait with a timeout polls, sleeping up to 50 ms a turn),
                # with a timer to stop a Pagefind that hangs
                watchdog = threading.Timer(TIMEOUT, proc.kill)
                watchdog.start()
                try:
                    code = proc.wait()
                finally:
                    watchdog.cancel()
                    output.seek(0)
                    said = output.read().decode("utf-8", "replace")
                    output.close()
                if code == -signal.SIGKILL and not said:
                    raise SearchIndexFailed(f"the search index could not be built: shard {name} took over "
                                            f"{TIMEOUT:g} s")
                if code != 0:
                    raise SearchIndexFailed(f"the search index could not be built (pagefind, shard {name}): "
                                            + said.strip()[-2000:])
                self._start()
        except BaseException:
            self.cancel()
            raise
        self.done()

    def cancel(self) -> None:
        """Stop every Pagefind still running (the build failed; its folder is removed)."""
        self.waiting.clear()
        for _name, proc, output in self.running:
            proc.kill()
            proc.wait()
            output.close()
        self.running.clear()


def remove_index(tmp: Path, indexed: Mapping[str, Indexed], previous: Path) -> None:
    """With search = false: no index (the spare tree may hold one from an earlier build)."""
    (tmp / STAMP).unlink(missing_ok=True)
    shutil.rmtree(tmp / SEARCH_DIR, ignore_errors=True)


_GLOB_SPECIAL = re.compile(r"[\\{}\[\]*?,!]")


def _spawn(site: Path, name: str, paths: list[str]) -> tuple[subprocess.Popen, IO[bytes]]:
    """Begin indexing the pages ``paths`` (relative to ``site``) into site/pagefind/<name>/; its
    output goes to a temporary file (a pipe nobody reads could fill and stop it)."""
    odd = [p for p in paths if _GLOB_SPECIAL.search(p)]
    if odd:  # page paths are made of ids and language codes, which cannot hold these
        raise SearchIndexFailed(f"the search index could not be built: the page path {odd[0]!r} holds a "
                                f"character Pagefind reads as a pattern")
    pattern = "{" + ",".join(paths) + "}"
    command = [str(executable()), "--site", str(site), "--output-subdir", f"{SEARCH_DIR}/{name}", "--silent",
               "--glob", pattern]
    output = tempfile.TemporaryFile()
    try:
        proc = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PAGEFIND_SITE": str(site)})
    except OSError as exc:
        output.close()
        raise SearchIndexFailed(f"the search index could not be built: {exc}") from None
    return proc, output


def _canonical_entry(path: Path) -> None:
    """Pagefind writes its languages in hash-map order, which changes from run to run: sorted,
    so the same pages always give the same bytes (pagefind.js reads it as JSON)."""
    import json

    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data.get("languages"), dict):
        data["languages"] = dict(sorted(data["languages"].items()))
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def _prune(shard: Path, runtime: bool) -> None:
    for entry in shard.iterdir():
        if entry.is_dir():
            if entry.name not in KEEP_DIRS:
                shutil.rmtree(entry)
        elif not (entry.name in KEEP_FILES or entry.name.endswith(KEEP_SUFFIXES)
                  or runtime and (entry.name in RUNTIME_FILES or entry.name.endswith(RUNTIME_SUFFIXES))):
            entry.unlink()


def _stamps(path: Path) -> dict[str, str]:
    """The digests of the shards a site's index was made from (none when unreadable or older)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("shards"), dict):
        return {}
    return {str(k): str(v) for k, v in data["shards"].items()}


def _put(target: Path, data: bytes, previous: Path) -> None:
    """Write ``data`` to ``target`` unless it holds them; linked from ``previous`` when that does
    (never written in place: the spare tree's files may be links to the live site's)."""
    for have, keep in ((target, None), (previous, target)):
        try:
            if have.read_bytes() == data:
                if keep is None:
                    return
                target.unlink(missing_ok=True)
                os.link(have, target)
                return
        except OSError:
            pass
    target.unlink(missing_ok=True)
    target.write_bytes(data)


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
