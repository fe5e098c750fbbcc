"""Helper processes that never outlive the command that started them."""

from __future__ import annotations

import ctypes
import functools
import os
import signal
from typing import Callable


@functools.cache
def libc() -> ctypes.CDLL:
    """The C library's functions, from the running program's own symbols (dlopen(NULL)):
    ctypes.util.find_library ran `ldconfig -p` in a new process each time, in every worker.
    Raises OSError or TypeError where there is no such thing (Windows)."""
    return ctypes.CDLL(None, use_errno=True)


def die_with_parent() -> None:
    """Linux: this process is killed when its parent dies (PR_SET_PDEATHSIG), so that a build
    killed mid-way leaves no worker behind (rendering into a folder the next build removes, or
    waiting for PDFs to make). Elsewhere, nothing."""
    try:
        libc().prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, TypeError):
        pass


def fork_sending(produce: Callable[[], bytes]) -> tuple[int, int]:
    """Fork a helper that computes ``produce()`` and sends its bytes back through a pipe, then
    leaves without running the parent's exit code (status 1 on any failure). Returns the helper's
    pid and the read end, for ``received``."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        die_with_parent()
        code = 1
        try:
            body = produce()
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(body)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def received(pid: int, read_end: int) -> bytes | None:
    """All a helper of ``fork_sending`` sent, once it has left; None when it failed (it did not
    exit 0, or its pipe broke): the caller then does its work itself."""
    chunks: list[bytes] = []
    broken = False
    try:
        with os.fdopen(read_end, "rb") as pipe:
            while chunk := pipe.read(1 << 20):
                chunks.append(chunk)
    except OSError:
        broken = True
    _, status = os.waitpid(pid, 0)
    return None if broken or status != 0 else b"".join(chunks)
