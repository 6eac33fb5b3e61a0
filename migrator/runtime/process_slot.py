"""One value for the whole process, set at start-up and read by every context that has none of its own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ProcessSlot(Generic[T]):
    """Holds one value, read and replaced under a lock; `make` builds it on first use."""

    def __init__(self, make: Callable[[], T] | None = None) -> None:
        self._lock = threading.Lock()
        self._make = make
        self._value: T | None = None

    def get(self) -> T | None:
        with self._lock:
            if self._value is None and self._make is not None:
                self._value = self._make()
            return self._value

    def swap(self, value: T | None) -> T | None:
        """Put `value` in the slot; return what was there."""
        with self._lock:
            previous, self._value = self._value, value
            return previous
