"""Decision logs to a collector, the way OPA's decision-log plugin sends them.

    log = DecisionLog(HttpSink("https://collector.example.com", headers={"Authorization": "Bearer ..."}))

Events are uploaded in batches: a JSON array of events, gzip-compressed, POSTed to the
service's ``/logs`` path (``Content-Type: application/json``, ``Content-Encoding: gzip``), as
OPA's plugin does, so whatever already receives OPA's decision logs receives these. Like the file
sink, it runs in the decision log's writer process, off the service's cores.

During an outage (connection refused, a timeout, any answer but 2xx) the events stay in a
bounded buffer (``buffer_size`` events; when it is full the oldest go, and are counted) and
the upload is tried again after an exponential backoff with jitter (``min_delay`` doubling up
to ``max_delay`` seconds). A batch leaves the buffer only when the collector accepted it (a 2xx
answer), so within the buffer no event is lost, and none is sent twice unless the collector
took a batch but its answer never arrived (OPA's plugin has the same property).
"""

from __future__ import annotations

import collections
import gzip
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

LOGS_PATH = "/logs"


class HttpSink:
    def __init__(self, url: str, headers: dict[str, str] | None = None, timeout: float = 10.0,
                 buffer_size: int = 100_000, batch_size: int = 1_000, min_delay: float = 0.5,
                 max_delay: float = 60.0):
        """``url``: the collector's base URL (the service); batches go to ``url`` + ``/logs``."""
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the collector's URL must start with http:// or https:// (not {url!r})")
        if min_delay <= 0 or max_delay < min_delay:
            raise ValueError("need 0 < min_delay <= max_delay")
        self.url = url.rstrip("/") + LOGS_PATH
        self.headers = dict(headers or {})
        self.timeout, self.buffer_size, self.batch_size = timeout, buffer_size, batch_size
        self.min_delay, self.max_delay = min_delay, max_delay
        self._buffer: collections.deque[bytes] = collections.deque()
        self._delay = 0.0
        self._next_attempt = 0.0
        self.dropped = self.uploaded = self.failures = 0
        self.last_error: str | None = None

    def config(self) -> dict[str, Any]:
        """What the writer process needs to make the same sink."""
        return {"kind": "http", "url": self.url[: -len(LOGS_PATH)], "headers": self.headers,
                "timeout": self.timeout, "buffer_size": self.buffer_size, "batch_size": self.batch_size,
                "min_delay": self.min_delay, "max_delay": self.max_delay}

    # ---- in the writer process ---------------------------------------------------------------

    def __call__(self, lines: list[bytes]) -> None:
        """Take encoded events (JSON lines); upload what can be uploaded now."""
        for line in lines:
            if len(self._buffer) >= self.buffer_size:
                self._buffer.popleft()  # the oldest goes, as OPA drops the oldest
                self.dropped += 1
            self._buffer.append(line.rstrip(b"\n"))
        self.upload()

    def pending(self) -> int:
        return len(self._buffer)

    def due_in(self) -> float | None:
        """Seconds until the next upload attempt is due (None: nothing waits)."""
        if not self._buffer:
            return None
        return max(0.0, self._next_attempt - time.monotonic())

    def upload(self) -> None:
        """Send batches while the collector takes them; after a failure, wait (backoff)."""
        while self._buffer and time.monotonic() >= self._next_attempt:
            batch = [self._buffer[i] for i in range(min(self.batch_size, len(self._buffer)))]
            try:
                self._post(b"[" + b",".join(batch) + b"]")
            except Exception as exc:  # any failure: keep the events, try again later
                self.failures += 1
                self.last_error = _describe(exc)
                self._delay = min(self.max_delay, max(self.min_delay, self._delay * 2))
                self._next_attempt = time.monotonic() + random.uniform(self._delay / 2, self._delay)
                return
            for _ in batch:  # accepted: now they may leave the buffer
                self._buffer.popleft()
            self.uploaded += len(batch)
            self._delay = 0.0

    def _post(self, body: bytes) -> None:
        data = gzip.compress(body, compresslevel=6, mtime=0)
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip",
                   "User-Agent": "usage-policy-decision-log", **self.headers}
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            response.read()
            if not 200 <= response.status < 300:
                raise OSError(f"HTTP {response.status} from the collector")

    def close(self, deadline: float | None = None) -> None:
        """Last attempts to upload what is buffered, until it is empty or ``deadline`` passes."""
        while self._buffer and (deadline is None or time.monotonic() < deadline):
            wait = self.due_in() or 0.0
            if deadline is not None and time.monotonic() + wait > deadline:
                return
            time.sleep(wait)
            self.upload()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} from the collector"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach the collector ({exc.reason})"
    return f"{type(exc).__name__}: {exc}"
