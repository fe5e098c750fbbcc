"""The decision log's writer process: reads batches from standard input, writes JSON lines.

Started by DecisionLog (``python -m generator.logwriter CONFIG``); not a user command. Frames
on stdin: an 8-byte big-endian length, then a JSON array of [time_ns, request, result]. After
each frame it writes "<count>\\n" to stdout once the lines are flushed, or "E <count> <message>"
when they could not be written. It ends at the end of its input, after writing what it has:
when the service stops, even abruptly, what was handed over is still written."""

from __future__ import annotations

import json
import sys

import orjson

from .decisionlog import _FRAME, Events, JsonLinesSink


def _read(stream, n: int) -> bytes:
    chunks, remaining = [], n
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            return b""
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def main(argv: list[str]) -> int:
    config = json.loads(argv[1])
    sink = JsonLinesSink(config["path"], config["max_bytes"], config["backups"], config["fsync"])
    events = Events(config["mask"], config["labels"])
    events.prefix = config["prefix"]
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    while True:
        header = _read(stdin, _FRAME.size)
        if not header:
            break
        payload = _read(stdin, _FRAME.unpack(header)[0])
        if not payload:
            break
        batch = orjson.loads(payload)
        try:
            sink([dumps(events.event(ns, request, result), option=newline) for ns, request, result in batch])
            stdout.write(b"%d\n" % len(batch))
        except Exception as exc:  # report, keep going: the next batch may succeed
            stdout.write(f"E {len(batch)} {type(exc).__name__}: {exc}\n".encode())
        stdout.flush()
    sink.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
