"""The decision log's writer process: reads batches from standard input, writes JSON lines.

Started by DecisionLog (``python -m generator.runtime.logwriter CONFIG``); not a user command. Frames
on stdin: an 8-byte big-endian length, then the batch (see ``lines``). After
each frame it writes "<count>\\n" to stdout once the lines are flushed, or "E <count> <message>"
when they could not be written. It ends at the end of its input, after writing what it has:
when the service stops, even abruptly, what was handed over is still written."""

from __future__ import annotations

import json
import select
import sys
import time
from typing import Any, BinaryIO

import orjson

from .decisionlog import _FRAME, JsonLinesSink
from .events import Events, encode_line
from .httpsink import HttpSink

_REVISION = b'"revision":'


def _read(stream: BinaryIO, n: int) -> bytes:
    chunks: list[bytes] = []
    remaining = n
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            return b""
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def lines(payload: bytes, events: Events) -> list[bytes]:
    """Items are 'time_ns RS input-json RS result-json' separated by GS (0x1e, 0x1d: bytes
    JSON text never holds raw). The encoded parts are spliced, not decoded, except the input
    or the result when masked fields must be erased from them."""
    prefix, counter, masks = events.prefix.encode(), events.counter, events.masks
    labels = orjson.dumps(events.labels) if events.labels else None
    out = []
    last_second, stamp = None, b""
    for item in payload.split(b"\x1d"):
        ns, request, result = item.split(b"\x1e", 2)
        second, rest = divmod(int(ns), 1_000_000_000)
        if second != last_second:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)).encode()
            last_second = second
        start = result.find(_REVISION) + len(_REVISION)
        revision = result[start:result.index(b'"', start + 1) + 1] if start >= len(_REVISION) else b'""'
        erased: list[str] = []
        if masks:  # decode only what a mask reaches into; the rest stays spliced bytes
            value, outcome, erased = events.mask(orjson.loads(request) if events.input_masks else None,
                                                 orjson.loads(result) if events.result_masks else None)
            if erased:
                if events.input_masks:
                    request = orjson.dumps(value)
                if events.result_masks:
                    result = orjson.dumps(outcome)
        out.append(encode_line(b"%s%012x" % (prefix, next(counter)), b"%s%06dZ" % (stamp, rest // 1000),
                               revision, request, result, erased, labels))
    return out


def main(argv: list[str]) -> int:
    config = json.loads(argv[1])
    http = config.get("kind") == "http"
    sink: Any
    if http:
        sink = HttpSink(config["url"], config["headers"], config["timeout"], config["buffer_size"],
                        config["batch_size"], config["min_delay"], config["max_delay"])
    else:
        sink = JsonLinesSink(config["path"], config["max_bytes"], config["backups"], config["fsync"])
    events = Events(config["mask"], config["labels"])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer

    def report() -> None:  # the HTTP sink's state, for DecisionLog.status()
        if http:
            stdout.write(b"S " + json.dumps({"uploaded": sink.uploaded, "dropped": sink.dropped,
                                            "pending": sink.pending(), "failures": sink.failures,
                                            "last_error": sink.last_error}).encode() + b"\n")

    while True:
        if http and sink.due_in() is not None:  # events wait for a retry: wake for it
            ready, _, _ = select.select([stdin], [], [], sink.due_in())
            if not ready:
                sink.upload()
                report()
                stdout.flush()
                continue
        header = _read(stdin, _FRAME.size)
        if not header:
            break
        payload = _read(stdin, _FRAME.unpack(header)[0])
        if not payload:
            break
        count = payload.count(b"\x1d") + 1
        try:
            sink(lines(payload, events))
            stdout.write(b"%d\n" % count)
        except Exception as exc:  # report, keep going: the next batch may succeed
            stdout.write(f"E {count} {type(exc).__name__}: {exc}\n".encode())
        report()
        stdout.flush()
    if http:  # the service is stopping: last attempts for what is still buffered
        sink.close(time.monotonic() + float(config.get("close_timeout", 10.0)))
        report()
        stdout.flush()
    else:
        sink.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
