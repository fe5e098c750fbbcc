"""A pure function over many items, shared out to forked processes: one share per CPU.

For work that is slow per item and depends on the item alone (`policy fmt` formats each file
round trip, about 10 ms a file: 10,000 files took 68 s in one process). Each forked process
takes every n-th item (so that large and small items spread evenly), computes, and sends its
results back through a pipe as JSON (orjson: no code is ever loaded from what comes back);
this process does its own share meanwhile. Results come back in the items' order, the same as
one process's. Where fork is missing, with one CPU, with few items, or when a helper fails in
any way (it dies, its pipe breaks, it sends something that does not decode), the items it had
are done here.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence, TypeVar

import orjson

from .procs import fork_sending, received

T = TypeVar("T")

#: Fewer items than this are done in this process alone (forking costs more than it saves).
FORK_MIN_ITEMS = 64


def fork_map(fn: Callable[[T], Any], items: Sequence[T], *, jobs: int | None = None,
             min_items: int = FORK_MIN_ITEMS) -> list[Any]:
    """[fn(item) for item in items], computed by up to ``jobs`` processes (default: one per
    CPU). ``fn`` must return JSON values (lists, dicts, text, numbers, None)."""
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    workers = max(1, min(workers, 16, len(items) // max(1, min_items // 2) or 1))
    if workers == 1 or len(items) < min_items or not hasattr(os, "fork"):
        return [fn(item) for item in items]
    helpers = [(share, *_fork(fn, items, share, workers)) for share in range(1, workers)]
    results: list[Any] = [None] * len(items)
    try:
        for index in range(0, len(items), workers):
            results[index] = fn(items[index])
    finally:
        received = [(share, _receive(read_end, pid)) for share, pid, read_end in helpers]
    for share, values in received:
        indexes = range(share, len(items), workers)
        if values is None or len(values) != len(indexes):
            values = [fn(items[i]) for i in indexes]  # a failed helper: its share is done here
        for index, value in zip(indexes, values):
            results[index] = value
    return results


def _fork(fn: Callable[[T], Any], items: Sequence[T], share: int, workers: int) -> tuple[int, int]:
    """A helper computing its share (every ``workers``-th item from ``share``), sent as JSON."""
    return fork_sending(lambda: orjson.dumps([fn(items[i]) for i in range(share, len(items), workers)]))


def _receive(read_end: int, pid: int) -> list[Any] | None:
    """What a helper sent (None when it failed: it is then redone here)."""
    body = received(pid, read_end)
    if body is None:
        return None
    try:
        values = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return values if isinstance(values, list) else None
