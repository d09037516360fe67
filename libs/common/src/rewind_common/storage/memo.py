"""What a process may trust for a few seconds without asking MongoDB again.

The API answers many requests about the same few things (the caller's token, the
snapshot being browsed, which snapshots are on legal hold); every answer otherwise costs
MongoDB a round trip. ``ExpiringMemo`` keeps what was read for ``seconds``: long enough
that a burst of requests reads once, short enough that what another process changed
(a token revoked elsewhere, a snapshot removed by retention) shows within seconds. With
``seconds`` 0 it keeps nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: Entries kept at most; past it the memo starts afresh (simpler than an LRU, and a
#: memo this size only overflows under a scan, where keeping old entries buys nothing).
DEFAULT_LIMIT = 1024


class ExpiringMemo(Generic[K, V]):
    def __init__(
        self,
        seconds: float,
        *,
        limit: int = DEFAULT_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._limit = limit
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        """The value kept for ``key`` if it has not expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if self.seconds <= 0:
            return
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[key] = (self._clock() + self.seconds, value)

    def forget(self, key: K | None = None) -> None:
        """Drop ``key``, or everything."""
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)
