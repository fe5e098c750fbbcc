"""Cyclic garbage collection paused while a stage builds objects that all live on.

Checking, building and walking history each make hundreds of thousands to millions of objects
that stay alive until the stage ends; Python's cyclic collector, triggered by allocations,
walks them over and over and finds nothing. Measured: a third of a cold `policy check`, half of
a cold `policy history`, and a build that grew faster than the site. Reference counting still
frees everything as usual; only the search for cycles waits until the stage is over."""

from __future__ import annotations

import functools
import gc
from typing import Callable, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def paused_collection(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with cyclic collection paused, restoring the previous state (nests safely)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        collecting = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if collecting:
                gc.enable()

    return wrapper
