"""The decision log: every decision as an event in OPA's decision-log shape, written off the
decision thread, for the audit and regular review of each exception.

    log = DecisionLog(JsonLinesSink("decisions.jsonl"), mask=["/input/customer/attestations"])
    client = BundleClient(url, ..., decision_log=log)        # or: log.record(request, decision)
    ...
    log.close()                                               # flushes what is buffered

An event (one JSON line):

    {"decision_id": "...", "timestamp": "2025-01-15T10:00:00.123456Z", "path": "usage_policy/decision",
     "bundles": {"usage_policy": {"revision": "<sha>"}}, "input": {...}, "result": {...},
     "erased": ["/input/customer/attestations"], "labels": {...}}

On the decision thread, ``record`` encodes the event (a few microseconds, with orjson) and
appends it to a bounded buffer (a deque); a background thread writes the buffer a batch at a
time, so no decision waits for a disk. When the buffer is full, new events are dropped and
counted (``status()['dropped']``), as OPA does. For callable sinks that take event dicts, the
events are built in the background thread from the request and decision objects, so those
requests must not be changed after they are decided."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson

PATH = "usage_policy/decision"
_dumps = orjson.dumps
_LINE = (b'{"decision_id":"%s%012x","timestamp":"%s%06dZ","path":"' + PATH.encode()
         + b'","bundles":{"usage_policy":{"revision":"%s"}},"input":%s,"result":%s%s}\n')


class JsonLinesSink:
    """Append events as JSON lines, rotating at ``max_bytes`` (``path.1`` ... ``path.N``).

    Each batch is written with one write and flushed; a crash can cut only the line being
    written, and that partial line is removed when the file is next opened, so every earlier
    line stays intact."""

    def __init__(self, path: str | Path, max_bytes: int = 100 * 1024 * 1024, backups: int = 5,
                 fsync: bool = False):
        self.path = Path(path)
        self.max_bytes, self.backups, self.fsync = max_bytes, backups, fsync
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _repair(self.path)
        self._file = open(self.path, "ab")

    def __call__(self, lines: list[bytes]) -> None:
        data = b"".join(lines)
        if self._file.tell() and self._file.tell() + len(data) > self.max_bytes:
            self._rotate()
        self._file.write(data)
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())

    def _rotate(self) -> None:
        self._file.close()
        for n in range(self.backups, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            newer = self.path.with_name(f"{self.path.name}.{n - 1}") if n > 1 else self.path
            if newer.exists():
                if n == self.backups and older.exists():
                    older.unlink()
                os.replace(newer, older)
        self._file = open(self.path, "ab")

    def close(self) -> None:
        self._file.close()


def _repair(path: Path) -> None:
    """Cut a partial last line (left by a crash) so that the file is whole lines again."""
    try:
        with open(path, "rb+") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                return
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return
            step, end = 65536, size
            while end > 0:
                start = max(0, end - step)
                fh.seek(start)
                chunk = fh.read(end - start)
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    fh.truncate(start + cut + 1)
                    return
                end = start
            fh.truncate(0)
    except FileNotFoundError:
        return


def _pointer(path: str) -> list[str]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.strip("/").split("/")]
    if not parts or parts[0] != "input":
        raise ValueError(f"mask paths start with /input/, e.g. /input/customer/attestations (not {path!r})")
    return parts[1:]


def _erase(value: Any, parts: list[str]) -> tuple[Any, bool]:
    """A copy of ``value`` without the field at ``parts`` (copying only along the path)."""
    if not parts or not isinstance(value, dict) or parts[0] not in value:
        return value, False
    if len(parts) == 1:
        copy = dict(value)
        del copy[parts[0]]
        return copy, True
    inner, erased = _erase(value[parts[0]], parts[1:])
    if not erased:
        return value, False
    copy = dict(value)
    copy[parts[0]] = inner
    return copy, True


class DecisionLog:
    def __init__(self, sink: Callable[[list[bytes]], None] | Callable[[list[dict]], None],
                 mask: Iterable[str] = (), labels: dict[str, str] | None = None,
                 buffer_size: int = 100_000, flush_interval: float = 0.5, batch_size: int = 2_000,
                 raw_sink: bool | None = None):
        """``sink``: a JsonLinesSink, or any callable. A callable that is not a JsonLinesSink
        receives lists of event dicts (``raw_sink=False``) unless ``raw_sink=True``, in which
        case it receives encoded JSON lines (bytes)."""
        self.sink = sink
        self.encoded = isinstance(sink, JsonLinesSink) if raw_sink is None else raw_sink
        self.masks = [(m, _pointer(m)) for m in mask]
        self.labels = dict(labels or {})
        self.buffer_size, self.flush_interval, self.batch_size = buffer_size, flush_interval, batch_size
        self._queue: collections.deque = collections.deque()
        # decision ids: UUID-shaped, a random 80-bit prefix per log and a 48-bit counter: unique
        # without a random draw per decision
        h = os.urandom(10).hex()
        self._id_prefix = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-".encode()
        self._counter = itertools.count()
        self._labels = b',"labels":' + _dumps(self.labels) if self.labels else b""
        self._wake = threading.Event()
        self._closed = False
        self._busy = False
        self.dropped = 0
        self.written = 0
        self.errors = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="policy-decision-log", daemon=True)
        self._thread.start()

    def record(self, request: Any, decision) -> None:
        """Called on the decision thread: masks and encodes the input and the result (two orjson
        calls) and queues them; the writer thread adds id and timestamp and does the I/O."""
        queue = self._queue
        if len(queue) >= self.buffer_size or self._closed:
            self.dropped += 1
            return
        if not self.encoded:
            queue.append((time.time_ns(), request, decision))
            return
        if self.masks:
            value, erased = self._masked(request)
        else:
            value, erased = request, None
        queue.append((time.time_ns(), _dumps(value, default=repr), _dumps(decision), decision.revision, erased))

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self._drain()
            if self._closed and not self._queue:
                return

    def _drain(self) -> None:
        queue = self._queue
        self._busy = True
        try:
            self._drain_queue(queue)
        finally:
            self._busy = False

    def _drain_queue(self, queue) -> None:
        while queue:
            batch = []
            while queue and len(batch) < self.batch_size:
                batch.append(queue.popleft())
            try:
                self.sink(self._lines(batch) if self.encoded else [self._event(*item) for item in batch])
                self.written += len(batch)
            except Exception as exc:  # a failing sink must not kill the logger
                self.errors += len(batch)
                self.last_error = f"{type(exc).__name__}: {exc}"

    def _masked(self, request: Any) -> tuple[Any, list[str]]:
        erased = []
        value = request
        for name, parts in self.masks:
            value, done = _erase(value, parts)
            if done:
                erased.append(name)
        return value, erased

    def _lines(self, batch: list) -> list[bytes]:
        """Queued (time, input JSON, result JSON, revision, erased) -> the events' JSON lines."""
        out = []
        prefix, counter, labels = self._id_prefix, self._counter, self._labels
        last_second, stamp = None, b""
        for ns, value, result, revision, erased in batch:
            second, rest = divmod(ns, 1_000_000_000)
            if second != last_second:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)).encode()
                last_second = second
            extra = b',"erased":' + _dumps(erased) if erased else b""
            out.append(_LINE % (prefix, next(counter), stamp, rest // 1000, revision.encode(), value, result,
                                extra + labels))
        return out

    def _event(self, ns: int, request: Any, decision) -> dict:
        value, erased = self._masked(request)
        when = dt.datetime.fromtimestamp(ns / 1e9, dt.timezone.utc)
        event = {
            "decision_id": str(uuid.UUID(bytes=os.urandom(16), version=4)),
            "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(ns // 1000) % 1_000_000:06d}Z",
            "path": PATH,
            "bundles": {"usage_policy": {"revision": decision.revision}},
            "input": value,
            "result": decision.to_dict(),
        }
        if erased:
            event["erased"] = erased
        if self.labels:
            event["labels"] = self.labels
        return event

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything recorded so far is written (or ``timeout`` passes)."""
        deadline = time.monotonic() + timeout
        while (self._queue or self._busy) and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.005)
        self._wake.set()

    def close(self, timeout: float = 10.0) -> None:
        self._closed = True
        self._wake.set()
        self._thread.join(timeout)
        close = getattr(self.sink, "close", None)
        if close is not None:
            close()

    def status(self) -> dict:
        return {"buffered": len(self._queue), "written": self.written, "dropped": self.dropped,
                "sink_errors": self.errors, "last_error": self.last_error}
