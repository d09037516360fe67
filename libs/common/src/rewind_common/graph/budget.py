"""A throttling budget per tenant, shared by every process through Redis.

Graph allows one application 8,000 read resource units per 10 seconds and 3,000 writes
per 150 seconds in one tenant, however many workers send them. Each request first takes
its cost from sliding-window limiters kept in Redis (pyrate-limiter), so the workers
together stay under the quotas instead of each discovering them through 429s. When Graph
answers 429 anyway, the Retry-After it sent pauses every process for that tenant.

Asking Redis before every request (the pause, then the limiter) costs a worker about
0.25 ms of CPU: a snapshot of 100,000 objects sends some 900 requests. So a process takes read
units a few dozen at a time (a two-hundredth of the window, 40 of Graph's 8,000) and
spends them over the next second, and looks for another process's pause at most every
quarter of a second. Writes, scarce, are taken one request at a time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as aioredis
from pyrate_limiter import Duration, Limiter, Rate, RedisBucket
from redis.exceptions import RedisError

from rewind_common.graph.costs import RequestCost

#: Read units taken from the shared window at a time: this part of the window.
READ_LEASE_PARTS = 200
#: Units taken and not spent within this long are dropped: they were counted in a
#: window that has moved on.
READ_LEASE_SECONDS = 1.0
#: How long a process relies on what it last read of the tenant's pause.
PAUSE_CHECK_SECONDS = 0.25
#: The most units a request takes from the window (Graph's costliest requests are far
#: below; a limiter cannot grant more than its window).
_MOST_UNITS = 1000


class GraphBudget:
    def __init__(
        self,
        redis: aioredis.Redis,
        tenant_id: str,
        *,
        read_units_per_10s: int,
        writes_per_150s: int,
    ) -> None:
        self._redis = redis
        self._tenant_id = tenant_id
        self._read_units = read_units_per_10s
        self._writes = writes_per_150s
        self._read_limiter: Limiter | None = None
        self._write_limiter: Limiter | None = None
        self._lock = asyncio.Lock()
        self._read_lease = max(read_units_per_10s // READ_LEASE_PARTS, 1)
        #: Read units taken from the window and not spent yet, and when they were taken.
        self._leased = 0
        self._leased_at = 0.0
        #: The tenant's pause as last read (epoch seconds), and when it was read.
        self._paused_until = 0.0
        self._pause_read_at: float | None = None

    @property
    def _pause_key(self) -> str:
        return f"rewind:graph:{self._tenant_id}:throttled-until"

    async def _limiters(self) -> tuple[Limiter | None, Limiter | None]:
        async with self._lock:
            if self._read_limiter is None and self._read_units:
                bucket: Any = await RedisBucket.init(
                    [Rate(self._read_units, Duration.SECOND * 10)],
                    self._redis,
                    f"rewind:graph:{self._tenant_id}:read-units",
                )
                self._read_limiter = Limiter(bucket)
            if self._write_limiter is None and self._writes:
                bucket = await RedisBucket.init(
                    [Rate(self._writes, Duration.SECOND * 150)],
                    self._redis,
                    f"rewind:graph:{self._tenant_id}:writes",
                )
                self._write_limiter = Limiter(bucket)
        return self._read_limiter, self._write_limiter

    async def acquire(self, cost: RequestCost) -> None:
        """Wait until the tenant's budget allows a request of this cost (its writes
        less those already taken with ``take_writes``)."""
        await self.wait_if_paused()
        try:
            reads, writes = await self._limiters()
            if reads is not None:
                await self._take_read_units(reads, min(cost.resource_units, _MOST_UNITS))
            if writes is not None and cost.writes:
                await writes.try_acquire_async("writes", weight=cost.writes)
        except RedisError:
            # The budget is an optimisation: without Redis, Graph's own 429s still hold
            # the line, and the retry middleware honours them.
            return

    async def _take_read_units(self, reads: Limiter, units: int) -> None:
        if time.monotonic() - self._leased_at > READ_LEASE_SECONDS:
            self._leased = 0
        if self._leased >= units:
            self._leased -= units
            return
        taken = min(max(units - self._leased, self._read_lease), self._read_units)
        await reads.try_acquire_async("reads", weight=taken)
        self._leased = max(self._leased + taken - units, 0)
        self._leased_at = time.monotonic()

    async def take_writes(self, wanted: int) -> int:
        """Take write permits for up to ``wanted`` writes: waits for the first, then
        takes as many more as are free now. A $batch sized to what it got goes out at
        once, where one waiting for all its permits would leave the free ones unused
        until the window moves on."""
        if wanted <= 0:
            return 0
        await self.wait_if_paused()
        try:
            _, writes = await self._limiters()
            if writes is None:
                return wanted
            if await writes.try_acquire_async("writes", weight=wanted, blocking=False):
                return wanted
            await writes.try_acquire_async("writes", weight=1)
            taken = 1
            while taken < wanted and await writes.try_acquire_async(
                "writes", weight=1, blocking=False
            ):
                taken += 1
            return taken
        except RedisError:
            return wanted

    async def wait_if_paused(self) -> None:
        now = time.monotonic()
        if self._pause_read_at is None or now - self._pause_read_at >= PAUSE_CHECK_SECONDS:
            try:
                raw = await self._redis.get(self._pause_key)
            except RedisError:
                return
            self._pause_read_at = now
            self._paused_until = int(raw) / 1000 if raw is not None else 0.0
        remaining = self._paused_until - time.time()
        if remaining > 0:
            await asyncio.sleep(min(remaining, 300))

    async def pause(self, seconds: float) -> None:
        """Graph said 429: hold every process's requests for this tenant."""
        until_ms = int((time.time() + seconds) * 1000)
        # This process holds back at once; the others see it within PAUSE_CHECK_SECONDS.
        self._paused_until = max(self._paused_until, until_ms / 1000)
        try:
            await self._redis.set(self._pause_key, until_ms, px=max(int(seconds * 1000), 1))
        except RedisError:
            return
