"""Page data kept until the next write: the web app reads far more often than it writes.

Every state-changing request (any method but GET/HEAD/OPTIONS) and every background analysis
step bumps a generation counter, before it starts and again when it has finished; an entry is
served only while the generation it was computed under is still current. Computing captures the
generation *before* reading the database, so a write that lands during the computation makes
the entry stale at once. What one server process writes is therefore visible to its next
request; writes by another process (the ``plantwatch admin`` CLI, a second server on the same
store) show after at most :data:`TTL_S`.

Login state is never cached: the user row is read on every request (deactivation is immediate).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["TTL_S", "PageCache"]

TTL_S = 5.0  # longest time a write by another process stays unseen [s]
_MAX_ENTRIES = 512
T = TypeVar("T")


class PageCache:
    """A generation-checked, time-limited cache of computed page data (thread-safe)."""

    def __init__(self, ttl_s: float = TTL_S, max_entries: int = _MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._generation = 0
        self._entries: dict[Hashable, tuple[int, float, Any]] = {}
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        return self._generation

    def bump(self) -> None:
        """A write happened (or is about to): everything cached so far is stale."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for ``key``, or ``compute()`` (stored under the generation that
        was current before it ran)."""
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            generation = self._generation
        if found is not None and found[0] == generation and now - found[1] < self.ttl_s:
            value: T = found[2]
            return value
        value = compute()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (generation, now, value)
        return value
