"""Values computed when a page that needs them is rendered, not when pages are planned."""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value computed at most once, when a page that needs it is actually rendered."""

    __slots__ = ("_fn", "_value", "_done")

    def __init__(self, fn: Callable[[], T]):
        self._fn = fn
        self._value: T | None = None
        self._done = False

    def __call__(self) -> T:
        if not self._done:
            self._value, self._done = self._fn(), True
        return self._value  # type: ignore[return-value]
