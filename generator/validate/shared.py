"""The per-file stage of many files, shared with a forked process.

Checking a file (parse with positions, schema, model, prose checks) depends on its bytes alone,
so a cold check of a large policy (5,000 documents and 5,000 exceptions: 3.4 s in one process)
splits the files in two: a forked process checks one half and sends what it found back through a
pipe, in the stage cache's JSON (stagecache.encode: no code is ever loaded from it), while this
process checks the other half; the entries are rebuilt here (about ten times faster than
checking). The result is the same as one process's: the stage cache gives these very objects
to every rebuild (tests compare the two). Where fork is missing, with one CPU, with few files,
or when the helper fails in any way, this process checks everything itself."""

from __future__ import annotations

import os
from typing import Callable

from ..load import RawFile
from ..procs import fork_sending, received

#: Fewer files than this are checked in this process alone (forking costs more than it saves).
SHARED_MIN_FILES = 400


def stage_files(todo: list[tuple[tuple[str, str], RawFile]], stage: Callable[[RawFile], tuple]) -> dict:
    """{key: stage(raw)} for every (key, raw) of ``todo``."""
    if (os.cpu_count() or 1) < 2 or len(todo) < SHARED_MIN_FILES or not hasattr(os, "fork"):
        return {key: stage(raw) for key, raw in todo}
    from .stagecache import decode, encode  # (here: the tests replace them)

    mine, theirs = todo[: len(todo) // 2], todo[len(todo) // 2:]
    pid, read_end = fork_sending(lambda: encode({key: stage(raw) for key, raw in theirs}))  # the helper's half
    try:
        out = {key: stage(raw) for key, raw in mine}
    finally:
        body = received(pid, read_end)
    try:
        if body is None:
            raise ValueError("the helper failed")
        found = decode(body)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        found = {}
    for key, raw in theirs:  # (a file the cache does not hold, or a failed helper: checked here)
        out[key] = found[key] if key in found else stage(raw)
    return out
