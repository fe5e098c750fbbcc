"""The processes that make PDFs while the build goes on.

One process is forked when the build starts; it imports WeasyPrint and lays out a first page
(a third of a second) while the build checks the sources. When the build has handed it every
PDF to make (``flush``), it forks helpers from itself, already warmed up, one per CPU, so that
the PDFs are shared between the CPUs without importing WeasyPrint again in each, and forwards
each result as soon as a helper has made it. Results come back through
one pipe, read by a thread of the build, so neither side waits on the other's reading. Every
process dies with the build that started it (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import os
import signal
import threading
from multiprocessing import Pipe
from multiprocessing.connection import Connection, wait
from typing import Callable, cast

from ..errors import PolicyError
from ..procs import die_with_parent


class PdfFailed(PolicyError):
    """A PDF could not be made (WeasyPrint's error is included)."""


def _convert(job: tuple, to_pdf: Callable[[str, str | None], bytes]) -> tuple:
    from ..bundle.errors import PackagingError

    number, html, base = job
    try:
        return ("done", number, to_pdf(html, base))
    except PackagingError as exc:  # WeasyPrint or Pango missing: the installation, not the sources
        return ("missing", number, str(exc))
    except BaseException as exc:  # noqa: BLE001 - sent back: the build fails, naming it
        return ("fail", number, f"{type(exc).__name__}: {exc}")


def _shares(jobs: list[tuple], count: int) -> list[list[tuple]]:
    """Jobs dealt out by size of their HTML, largest first, to the least loaded share."""
    shares: list[list[tuple]] = [[] for _ in range(count)]
    loads = [0] * count
    for job in sorted(jobs, key=lambda j: (-len(j[1]), j[0])):
        least = loads.index(min(loads))
        shares[least].append(job)
        loads[least] += len(job[1])
    return shares


def _serve(conn: Connection, workers: int, warm_up: Callable[[], object],
           to_pdf: Callable[[str, str | None], bytes]) -> None:
    try:
        warm_up()
    except BaseException:  # noqa: BLE001 - the PDFs themselves will say what is wrong
        pass
    while True:
        jobs: list[tuple] = []
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return
            if message[0] == "job":
                jobs.append(message[1:])
            elif message[0] == "go":
                break
            else:  # "stop"
                return
        if not jobs:
            continue
        shares = [s for s in _shares(jobs, max(1, min(workers, len(jobs)))) if s]
        helpers: dict[Connection, int] = {}
        for share in shares:
            read, write = Pipe(duplex=False)
            pid = os.fork()
            if pid == 0:  # a helper: already warmed up, as this process is
                read.close()
                die_with_parent()
                code = 0
                try:
                    for job in share:
                        write.send(_convert(job, to_pdf))
                except BaseException:  # noqa: BLE001
                    code = 1
                finally:
                    os._exit(code)
            write.close()
            helpers[read] = pid
        # forward each result as soon as it is made (a helper never waits on another's turn)
        while helpers:
            for ready in wait(list(helpers)):
                read = cast(Connection, ready)
                try:
                    conn.send(read.recv())
                except EOFError:
                    read.close()
                    os.waitpid(helpers.pop(read), 0)


class Converter:
    """``submit(html, base)`` returns a waiter whose ``result()`` is the PDF's bytes."""

    def __init__(self, workers: int, warm_up: Callable[[], object], to_pdf: Callable[[str, str | None], bytes]):
        self.workers = max(1, workers)
        self.used = False
        self._results: dict[int, tuple] = {}
        self._ready = threading.Condition()
        self._sent = self._flushed = 0
        mine, theirs = Pipe()
        pid = os.fork()
        if pid == 0:
            mine.close()
            die_with_parent()
            code = 0
            try:
                _serve(theirs, self.workers, warm_up, to_pdf)
            except BaseException:  # noqa: BLE001 - the build sees the pipe close, and fails
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        self._pid, self._conn = pid, mine
        self._reader = threading.Thread(target=self._read, name="pdf-results", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                message = ("gone",)
            with self._ready:
                if message[0] == "gone":
                    self._results[-1] = message
                    self._ready.notify_all()
                    return
                self._results[message[1]] = message
                self._ready.notify_all()

    def submit(self, html: str, base_url: str | None) -> "_Waiter":
        self.used = True
        self._sent += 1
        self._send(("job", self._sent, html, base_url))
        return _Waiter(self, self._sent)

    def _send(self, message: tuple) -> None:
        try:
            self._conn.send(message)
        except OSError:  # the process is gone: every wait says so
            with self._ready:
                self._results.setdefault(-1, ("gone",))
                self._ready.notify_all()

    def flush(self) -> None:
        """Every PDF of this batch has been submitted: start making them."""
        if self._sent > self._flushed:
            self._flushed = self._sent
            self._send(("go",))

    def wait(self, number: int) -> bytes:
        self.flush()
        with self._ready:
            while number not in self._results and -1 not in self._results:
                self._ready.wait()
            message = self._results.pop(number, None) or self._results[-1]
        if message[0] == "done":
            return message[2]
        if message[0] == "fail":
            raise PdfFailed(f"a PDF could not be made: {message[2]}")
        if message[0] == "missing":
            from ..bundle.errors import PackagingError

            raise PackagingError(message[2])
        raise PdfFailed("the process making PDFs ended unexpectedly")

    def close(self) -> None:
        """Wait for the PDFs asked for; when none was (all were cached or reused), stop the
        process at once instead of waiting for it to finish importing WeasyPrint."""
        if not self.used:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            try:
                self._conn.send(("stop",))
            except OSError:
                pass
        try:
            os.waitpid(self._pid, 0)
        except ChildProcessError:
            pass
        self._conn.close()
        self._reader.join(timeout=5)


class _Waiter:
    __slots__ = ("_converter", "_number")

    def __init__(self, converter: Converter, number: int):
        self._converter, self._number = converter, number

    def result(self) -> bytes:
        return self._converter.wait(self._number)
