"""Helper processes that never outlive the command that started them."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal


def die_with_parent() -> None:
    """Linux: this process is killed when its parent dies (PR_SET_PDEATHSIG), so that a build
    killed mid-way leaves no worker behind (rendering into a folder the next build removes, or
    waiting for PDFs to make). Elsewhere, nothing."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
