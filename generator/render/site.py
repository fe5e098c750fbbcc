"""Write a site atomically: render into a temporary folder beside the target, then swap it in.

An interrupted or failed build leaves the previous site untouched. Pages whose fingerprint is
unchanged since the previous build are copied from it instead of rendered again (the
fingerprints are kept in ``.buildinfo``, as Sphinx does).

The site the swap replaces is kept beside it as ``.<name>.spare``: the next build renames it to
its temporary folder and brings it up to date (only changed pages are written, stale ones
removed), so a rebuild after a small edit does not make a thousand folders again. Pages are
never written in place (a page may be a hard link to the live site's), and the spare is never
served: it is outside the site folder, and safe to delete at any time."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import threading
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..errors import UsageError
from ..procs import fork_sending, libc, received
from . import pdf
from .engine import Page, warm_templates
from .search import Indexed, Indexing

BUILDINFO = ".buildinfo"
SPARE = ".spare"
_FORMAT = 2  # 2: 128-bit fingerprints, no spaces


@dataclass(frozen=True, slots=True)
class WriteStats:
    pages: int
    rendered: int
    reused: int
    rendered_paths: tuple[str, ...] = ()  # the pages rendered this time (the rest were reused)


def check_output_folder(out: Path, root: Path) -> None:
    """Refuse to replace a folder that is not a previous build (or that holds the sources)."""
    out_r, root_r = out.resolve(), root.resolve()
    if out_r == root_r or root_r.is_relative_to(out_r):
        raise UsageError(f"--out {out} would replace the folder holding the sources; choose another folder")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; choose a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / BUILDINFO).is_file():
        raise UsageError(f"--out {out} already holds files that 'policy build' did not write; "
                         f"choose an empty or new folder, or delete it first")


def previous_fingerprints(out: Path) -> dict[str, str]:
    try:
        data = json.loads((out / BUILDINFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("pages"), dict):
        return {}
    return {str(k): str(v) for k, v in data["pages"].items()}


def write_site(pages: Iterable[Page], out: Path, memory: dict[str, tuple[str, bytes]] | None = None,
               seal: Callable[[], None] | None = None, jobs: int | None = None,
               finish: Callable[[Path, dict[str, Indexed], Path], Indexing | None] | None = None,
               meanwhile: Callable[[], None] | None = None) -> WriteStats:
    """Render ``pages`` into ``out`` atomically.

    Gather, then write: first every page that will be rendered (its fingerprint changed, or its
    old file is gone) gathers what it needs (``Page.gather``: past sources from git); then
    ``seal`` is called (history refuses to load anything more), and only then is anything
    rendered, so rendering never calls back into history or validation.

    ``memory`` (optional, kept by a long-running preview) maps path -> (fingerprint, bytes) so
    unchanged pages are not even read back from disk.

    ``jobs``: processes rendering pages (None: one per CPU). Pages are independent, so when many
    are to be rendered they are shared out between this process and forked workers, each writing
    its own pages into the temporary folder (see begin_pages); the bytes do not depend on it.

    ``finish(folder, indexed, out)``: called once every indexed page is in the temporary folder,
    before the swap, to add what is made from the pages themselves (the search index): ``indexed``
    maps the path of each page with ``Page.search`` set to its language, fingerprint and
    ``whole``. It returns None, or work under way (``wait()``, ``cancel()``: search.Indexing),
    waited for once the other pages are written. ``meanwhile``: work of the caller's (writing a
    cache back), done while the index is made."""
    out = Path(out)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(parent, out.name)
    previous = previous_fingerprints(out)
    pages = list(pages)
    for page in pages:
        if page.gather is None:
            continue
        cached = memory.get(page.path) if memory is not None else None
        reusable = (previous.get(page.path) == page.fingerprint and (out / page.path).is_file()) or \
            (cached is not None and cached[0] == page.fingerprint)
        if not reusable:
            page.gather()
    if seal is not None:
        seal()
    tmp, spare = _workspace(parent, out.name)
    rendered = reused = 0
    rendered_paths: list[str] = []
    fingerprints: dict[str, str] = {}
    made = {tmp} | {(tmp / path).parent for path in spare}
    to_render: list[tuple[Page, Path]] = []
    aliases: list[tuple[Page, Path]] = []  # pages with the same bytes as another: copied after rendering
    # A preview (``memory``) renders in this process once its server's threads run: forking a
    # process with other threads copies their locks in whatever state they are. Its first build
    # runs before they start, and shares its pages out as a build does; they are read back into
    # ``memory`` once written.
    forkable = memory is None or threading.active_count() == 1
    kept: list[tuple[Page, Path]] = []  # rendered by the workers, for ``memory``
    try:
        for page in pages:
            target = tmp / page.path
            fingerprints[page.path] = page.fingerprint
            if spare.get(page.path) == page.fingerprint and target.is_file():
                reused += 1  # already there: the spare tree held this very page
                continue
            if page.path in spare:
                target.unlink(missing_ok=True)  # never written in place: it may be a link to the live site
            cached = memory.get(page.path) if memory is not None else None
            if page.same_as is None and previous.get(page.path) != page.fingerprint and forkable and \
                    (cached is None or cached[0] != page.fingerprint):
                to_render.append((page, target))  # its folder is made by whoever renders it (see _write)
                if memory is not None:
                    kept.append((page, target))
                rendered += 1
                rendered_paths.append(page.path)
                continue
            if target.parent not in made:  # one mkdir per folder, not per page
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            if previous.get(page.path) == page.fingerprint and _link_or_copy(out / page.path, target):
                reused += 1
                continue
            if cached is not None and cached[0] == page.fingerprint:
                target.write_bytes(cached[1])
                reused += 1
                continue
            if page.same_as is not None:
                aliases.append((page, target))
            elif forkable:
                to_render.append((page, target))
                if memory is not None:
                    kept.append((page, target))
            else:  # a preview, with its server's threads running
                assert memory is not None  # (forkable otherwise)
                data = page.render()
                target.write_bytes(data)
                memory[page.path] = (page.fingerprint, data)
            rendered += 1
            rendered_paths.append(page.path)
        rendered_set = set(rendered_paths)
        _remove_stale_pages(tmp, spare.keys() - fingerprints.keys())
        # The search index is made from the indexed pages, by other processes: when the pages are
        # rendered here (a rebuild), those come first and the index is made while the others
        # are; forked render workers share every page out at once (see begin_pages)
        overlap = finish is not None and not _shared_out(len(to_render), jobs)
        pending = begin_pages([job for job in to_render if job[0].search or not overlap], jobs)
        indexing = None
        if finish is not None:  # (while the converter still makes PDFs)
            indexing = finish(tmp, {page.path: Indexed(page.search, page.fingerprint, page.whole)
                                    for page in pages if page.search}, out)
        try:
            if overlap:
                pending += begin_pages([job for job in to_render if not job[0].search], jobs)
            if meanwhile is not None:
                meanwhile()
            if indexing is not None:
                indexing.wait()
        except BaseException:
            if indexing is not None:
                indexing.cancel()
            raise
        for wait, target in pending:
            _write(target, wait())
        for page, target in kept:
            memory[page.path] = (page.fingerprint, target.read_bytes())  # type: ignore[index]
        for page in pages:
            if page.keep_same and page.path in rendered_set:
                _keep_if_same(out / page.path, tmp / page.path)
        for page, target in aliases:  # after the pages they copy
            if page.same_as is None or not _link_or_copy(tmp / page.same_as, target):
                target.write_bytes(page.render())
            if memory is not None:
                memory[page.path] = (page.fingerprint, target.read_bytes())
        (tmp / BUILDINFO).write_text(json.dumps({"format": _FORMAT, "pages": fingerprints}, sort_keys=True,
                                                indent=0, separators=(",", ":")) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return WriteStats(len(fingerprints), rendered, reused, tuple(rendered_paths))


class RenderFailed(RuntimeError):
    """A page could not be rendered in a worker process (a bug: the sources were valid)."""


#: Fewer pages than this are rendered in this process alone (forking costs more than it saves).
PARALLEL_MIN_PAGES = 64


def begin_pages(jobs_list: list[tuple[Page, Path]], jobs: int | None = None) -> list[tuple[Callable[[], bytes], Path]]:
    """Render each page and write it to its target, but only begin the pages made elsewhere
    (PDFs, by the converter, see pdf.py): their waits come back, so that the caller can do other
    work (the search index) meanwhile. The HTML pages are then made in this process.

    With no page made elsewhere, and more than one job and enough pages, this process and forked
    workers (os.fork: they inherit the gathered model, nothing is sent to them) take the pages
    one by one from a shared queue, the pages made from the whole policy first, and write
    straight into the temporary folder. A worker that fails reports the page and the error through a pipe; the
    build then fails as a whole, and the caller removes the temporary folder. Where fork is
    missing, or with jobs=1, one process."""
    started = [(page.start(), target) for page, target in jobs_list if page.start is not None]
    pdf.flush()  # every PDF begun: the converter shares them out while the pages are made here
    if started:
        for page, target in jobs_list:
            if page.start is None:
                _write(target, page.render())
        return started
    workers = _workers(len(jobs_list), jobs)
    if not _shared_out(len(jobs_list), jobs):
        for page, target in jobs_list:
            _write(target, page.render())
        return []
    warm_templates()  # compiled once here, not once in every worker
    queue = _Queue(sorted(jobs_list, key=lambda job: not job[0].whole))  # the costly pages first
    children: list[tuple[int, int]] = []
    try:
        for _ in range(workers - 1):
            children.append(_fork_worker(queue))
        for page, target in queue:
            _write(target, page.render())
    finally:
        problems = _wait_for(children)
    if problems:
        raise RenderFailed("rendering failed in a worker process: " + "; ".join(problems))
    return []


def _workers(count: int, jobs: int | None) -> int:
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    return max(1, min(workers, 16, count // (PARALLEL_MIN_PAGES // 2) or 1))


def _shared_out(count: int, jobs: int | None) -> bool:
    """Whether ``count`` pages are shared out between forked workers (else rendered here)."""
    return _workers(count, jobs) > 1 and count >= PARALLEL_MIN_PAGES and hasattr(os, "fork")


_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _write(target: Path, data: bytes) -> None:
    """Write a rendered page, making its folder the first time (folders are made by the process
    that renders their pages, so that making 5,000 of them overlaps with rendering). Written with
    the descriptor alone (open, write, close): a buffered file object adds three system calls."""
    try:
        fd = os.open(target, _WRITE_FLAGS, 0o666)
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, _WRITE_FLAGS, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


class _Queue:
    """The pages to render, taken one at a time by this process and its forked workers (a counter
    in shared memory): whoever is free takes the next, so one costly page (the calendar, the
    exceptions page of a large policy) does not leave the other processes idle at the end."""

    def __init__(self, jobs: list[tuple[Page, Path]]) -> None:
        import multiprocessing

        self.jobs = jobs
        self.taken = multiprocessing.get_context("fork").Value("q", 0)

    def __iter__(self):
        while True:
            with self.taken.get_lock():
                index = self.taken.value
                self.taken.value = index + 1
            if index >= len(self.jobs):
                return
            yield self.jobs[index]


def _fork_worker(share: Iterable[tuple[Page, Path]]) -> tuple[int, int]:
    """A forked worker (procs.fork_sending) rendering pages from ``share`` until none is left; it
    sends back nothing, or what stopped it: the page and the error, for the parent to raise."""

    def produce() -> bytes:
        for page, target in share:
            try:
                _write(target, page.render())
            except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
                return f"{page.path}: {type(exc).__name__}: {exc}"[:2000].encode("utf-8", "replace")
        return b""

    return fork_sending(produce)


def _wait_for(children: list[tuple[int, int]]) -> list[str]:
    problems = []
    for pid, read_end in children:
        said = received(pid, read_end)
        if said is None:
            problems.append("a worker process ended before it had rendered its pages")
        elif said:
            problems.append(said.decode("utf-8", "replace"))
    return problems


def spare_folder(out: Path) -> Path:
    """The previous build's tree, kept beside the site (never inside it) so that the next build
    updates it instead of making every folder again; safe to delete at any time."""
    return out.resolve().parent / f".{out.name}{SPARE}"


def _workspace(parent: Path, name: str) -> tuple[Path, dict[str, str]]:
    """The folder to build into, and the fingerprints of the pages it already holds.

    The spare tree (the site before last, swapped out by the previous build) is taken when it is
    there and complete: renamed to this process's temporary name (so that two builds never share
    it), its .buildinfo removed first (a build killed while updating it leaves a folder that the
    next build deletes, never a spare that lies about its pages). Otherwise an empty folder."""
    spare = parent / f".{name}{SPARE}"
    mine = parent / f".{name}.tmp-{os.getpid()}-spare"
    try:
        os.rename(spare, mine)
    except OSError:
        return Path(tempfile.mkdtemp(prefix=f".{name}.tmp-{os.getpid()}-", dir=parent)), {}
    pages = previous_fingerprints(mine)
    try:
        (mine / BUILDINFO).unlink()
    except OSError:
        pages = {}
    if not pages:
        shutil.rmtree(mine, ignore_errors=True)
        return Path(tempfile.mkdtemp(prefix=f".{name}.tmp-{os.getpid()}-", dir=parent)), {}
    return mine, pages


def _remove_stale_pages(tmp: Path, paths: Iterable[str]) -> None:
    """Pages the spare tree held that this build does not have; then their emptied folders."""
    folders: set[Path] = set()
    for path in paths:
        target = tmp / path
        target.unlink(missing_ok=True)
        folders.update(p for p in target.parents if p != tmp and p.is_relative_to(tmp))
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            pass  # not empty: it holds pages of this build


def _keep_if_same(live: Path, made: Path) -> None:
    """``made`` replaced by a hard link to ``live`` when their bytes are the same."""
    try:
        if live.stat().st_size != made.stat().st_size or live.read_bytes() != made.read_bytes():
            return
        spare = made.with_name(made.name + ".new")
        os.link(live, spare)
    except OSError:
        return
    try:
        os.replace(spare, made)
    except OSError:
        spare.unlink(missing_ok=True)


def _link_or_copy(old: Path, new: Path) -> bool:
    """Reuse an unchanged page of the previous build: a hard link where possible, else a copy."""
    try:
        os.link(old, new)
    except FileNotFoundError:
        return False
    except OSError:
        try:
            shutil.copyfile(old, new)
        except OSError:
            return False
    return True


def _remove_stale_temporaries(parent: Path, name: str) -> None:
    """Leftovers of builds that were killed: remove those whose process is gone."""
    prefix = f".{name}."
    for entry in parent.glob(f".{name}.*-*"):
        parts = entry.name[len(prefix):].split("-")  # "tmp-PID-..." or "old-PID-x" (the name may hold '-')
        try:
            pid = int(parts[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2); False where unsupported."""
    try:
        fn = libc().renameat2
    except (OSError, AttributeError, TypeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.rename(tmp, out)
        return
    if _exchange(tmp, out):  # now tmp holds the old site: kept as the next build's spare tree
        try:
            os.rename(tmp, out.parent / f".{out.name}{SPARE}")
        except OSError:  # another build's spare got there first
            shutil.rmtree(tmp, ignore_errors=True)
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}-x"
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
