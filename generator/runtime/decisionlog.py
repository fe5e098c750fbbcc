"""The decision log: every decision as an event in OPA's decision-log shape, for the audit and
the regular review of each exception.

    log = DecisionLog(JsonLinesSink("decisions.jsonl"), mask=["/input/customer/attestations"])
    client = BundleClient(url, ..., decision_log=log)        # or: log.record(request, decision)
    ...
    log.close()                                               # writes what is buffered

An event (one JSON line):

    {"decision_id": "...", "timestamp": "2025-01-15T10:00:00.123456Z", "path": "usage_policy/decision",
     "bundles": {"usage_policy": {"revision": "<sha>"}}, "input": {...}, "result": {...},
     "erased": ["/input/customer/attestations"], "labels": {...}}

Where the time goes. With a JsonLinesSink, ``record`` (on the decision thread) encodes the
request and the decision with orjson and appends the bytes to a bounded buffer; a background
thread hands batches to a **writer process**, which masks, numbers, timestamps and writes the
events on another core, splicing the encoded parts rather than decoding them again. Building events in the service's own process, even in a background thread,
slowed decisions 2.5 to 3 times: Python threads share one interpreter lock. A callable sink
receives event dicts built in a background thread of the service's process.

When the buffer is full, new events are dropped and counted (``status()['dropped']``), as OPA
does: a slow disk never slows decisions. Requests must not be changed after they are decided
(they are encoded later, from the same objects)."""

from __future__ import annotations

import collections
import json
import os
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Union

import uuid

import orjson

from .. import __version__

from .decide import Decision
from .events import PATH, Events
from .httpsink import HttpSink

__all__ = ["PATH", "DecisionLog", "Events", "JsonLinesSink", "repair"]
_dumps = orjson.dumps
_time_ns = time.time_ns
_FRAME = struct.Struct(">Q")


class JsonLinesSink:
    """Events appended as JSON lines to ``path``, rotating at ``max_bytes`` (``path.1`` ...
    ``path.N``). Each batch is one write, flushed (and fsynced with ``fsync=True``); a crash can
    cut only the line being written, and a cut line is removed when the file is next opened, so
    every earlier line stays whole."""

    def __init__(self, path: str | Path, max_bytes: int = 100 * 1024 * 1024, backups: int = 5,
                 fsync: bool = False):
        self.path = Path(path)
        self.max_bytes, self.backups, self.fsync = max_bytes, backups, fsync
        self._file: BinaryIO | None = None
        repair(self.path)  # a line cut by a crash goes now, when the log is opened

    def config(self) -> dict[str, Any]:
        return {"path": str(self.path.resolve()), "max_bytes": self.max_bytes, "backups": self.backups,
                "fsync": self.fsync}

    def __call__(self, lines: list[bytes]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            repair(self.path)
            self._file = open(self.path, "ab")
        data = b"".join(lines)
        if self._file.tell() and self._file.tell() + len(data) > self.max_bytes:
            self._file = self._rotate(self._file)
        self._file.write(data)
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())

    def _rotate(self, current: BinaryIO) -> BinaryIO:
        current.close()
        for n in range(self.backups, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            newer = self.path.with_name(f"{self.path.name}.{n - 1}") if n > 1 else self.path
            if newer.exists():
                os.replace(newer, older)
        return open(self.path, "ab")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def repair(path: Path) -> None:
    """Cut a partial last line (left by a crash) so that the file is whole lines again."""
    try:
        with open(path, "rb+") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                return
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return
            end = size
            while end > 0:
                start = max(0, end - 65536)
                fh.seek(start)
                cut = fh.read(end - start).rfind(b"\n")
                if cut >= 0:
                    fh.truncate(start + cut + 1)
                    return
                end = start
            fh.truncate(0)
    except FileNotFoundError:
        return


EventSink = Callable[[list[dict[str, Any]]], None]


class DecisionLog:
    def __init__(self, sink: Union[JsonLinesSink, HttpSink, EventSink], mask: Iterable[str] = (),
                 labels: dict[str, str] | None = None, buffer_size: int = 100_000, flush_interval: float = 0.5,
                 batch_size: int = 1_000):
        """``sink``: a JsonLinesSink (written by a writer process), or a callable that receives
        lists of event dicts (called from a background thread)."""
        self.sink = sink
        # a JsonLinesSink or an HttpSink is served by a writer process; a callable by a thread here
        self._lines: JsonLinesSink | HttpSink | None = sink if isinstance(sink, (JsonLinesSink, HttpSink)) else None
        self._events: EventSink | None = None if self._lines is not None else sink  # type: ignore[assignment]
        self.sink_status: dict[str, Any] = {}  # what the writer process reports of an HttpSink
        self.mask = list(mask)
        # OPA's automatic labels (the instance's id and the software's version), then the caller's
        self.labels = {"id": str(uuid.uuid4()), "version": f"policy {__version__}", **dict(labels or {})}
        self.events = Events(self.mask, self.labels)  # validates the mask paths now
        self.buffer_size, self.flush_interval, self.batch_size = buffer_size, flush_interval, batch_size
        self._close_timeout = 10.0
        self._queue: collections.deque[Any] = collections.deque()
        self._limit, self._ready = buffer_size, batch_size - 1
        self._wake = threading.Event()
        self._closed = self._busy = False
        self.dropped = self.sent = self.written = self.errors = 0
        self.last_error: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._thread = threading.Thread(target=self._run, name="policy-decision-log", daemon=True)
        self._thread.start()

    # ---- the decision thread -----------------------------------------------------------------

    def record(self, request: Any, decision: Decision) -> None:
        """On the decision thread: about a microsecond, no I/O. For the writer process the
        request and decision are encoded here at once (one orjson call), so the buffer holds
        bytes rather than live objects, which the garbage collector would otherwise scan."""
        queue = self._queue
        waiting = len(queue)
        if waiting >= self._limit:  # full: the oldest event goes, as OPA drops the oldest
            self.dropped += 1
            if self._closed:  # closed (the limit is then 0): nothing is kept any more
                return
            try:
                queue.popleft()
            except IndexError:  # the background thread took the batch meanwhile
                pass
            waiting -= 1
        if self._lines is not None:
            try:
                encoded = _dumps(request)
            except TypeError:  # something JSON cannot hold: logged as its repr
                encoded = _dumps(request, default=repr)
            queue.append(b"%d\x1e%s\x1e%s" % (_time_ns(), encoded, _dumps(decision)))  # orjson encodes the frozen dataclass
        else:
            queue.append((_time_ns(), request, decision))
        if waiting == self._ready:  # a batch is ready: hand it over now, keep the buffer small
            self._wake.set()

    # ---- the background thread ---------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self._busy = True
            try:
                self._drain()
            finally:
                self._busy = False
            if self._closed and not self._queue:
                return

    def _drain(self) -> None:
        queue = self._queue
        while queue:
            batch = [queue.popleft() for _ in range(min(len(queue), self.batch_size))]
            try:
                if self._events is None:
                    self._send(b"\x1d".join(batch))
                    self.sent += len(batch)
                else:
                    self._events([self.events.event(ns, request, decision.to_dict()) for ns, request, decision in batch])
                    self.written += len(batch)
            except Exception as exc:  # a failing sink or writer must not stop the logger
                self.errors += len(batch)
                self.last_error = f"{type(exc).__name__}: {exc}"

    def _send(self, payload: bytes) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            process = self._start_writer()
        try:
            assert process.stdin is not None  # started with stdin=PIPE
            process.stdin.write(_FRAME.pack(len(payload)) + payload)
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            self._process = None
            raise RuntimeError(f"the log writer process stopped (exit code {process.poll()})") from None

    def _start_writer(self) -> subprocess.Popen[bytes]:
        assert self._lines is not None  # only a JsonLinesSink or an HttpSink has a writer process
        # no id prefix is handed over: each writer process draws its own at random, so a writer
        # that is restarted (or a second process logging to the same file) never repeats an id
        config = dict(self._lines.config(), mask=self.mask, labels=self.labels, close_timeout=self._close_timeout)
        process = subprocess.Popen([sys.executable, "-m", "generator.runtime.logwriter", json.dumps(config)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self._process = process
        self._reader = threading.Thread(target=self._acks, args=(process,), name="policy-decision-log-acks",
                                        daemon=True)
        self._reader.start()
        return process

    def _acks(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None  # started with stdout=PIPE
        for line in process.stdout:
            if line.startswith(b"S "):
                try:
                    self.sink_status = json.loads(line[2:])
                except ValueError:
                    pass
            elif line.startswith(b"E "):
                count, _, message = line[2:].decode("utf-8", "replace").partition(" ")
                self.errors += int(count)
                self.last_error = message.strip()
            elif line.strip().isdigit():
                self.written += int(line)

    # ---- control -------------------------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything recorded so far is written; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._wake.set()
            if not self._queue and not self._busy and (
                    self._lines is None or self.written + self.errors >= self.sent):
                return True
            time.sleep(0.002)
        return False

    def close(self, timeout: float = 10.0) -> None:
        self._closed = True
        self._close_timeout = timeout
        self._limit = 0
        self._wake.set()
        self._thread.join(timeout)
        process = self._process
        if process is not None:
            try:
                if process.stdin is not None:
                    process.stdin.close()
            except OSError:
                pass
            try:
                process.wait(timeout + 5)  # the writer's own last attempts (an HttpSink) take up to timeout
            except subprocess.TimeoutExpired:
                process.kill()
            if self._reader is not None:
                self._reader.join(timeout)
        close = getattr(self.sink, "close", None)
        if close is not None:
            close()

    def status(self) -> dict[str, Any]:
        return {"buffered": len(self._queue), "sent": self.sent, "written": self.written, "dropped": self.dropped,
                "sink_errors": self.errors, "last_error": self.last_error, "sink": dict(self.sink_status),
                "writer_pid": self._process.pid if self._process else None}
