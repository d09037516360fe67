"""A throttling budget per tenant, shared by every process through Redis.

Graph allows one application 8,000 read resource units per 10 seconds and 3,000 writes
per 150 seconds in one tenant, however many workers send them. Each request first takes
its cost from sliding-window limiters kept in Redis (pyrate-limiter), so the workers
together stay under the quotas instead of each discovering them through 429s. When Graph
answers 429 anyway, the Retry-After it sent pauses every process for that tenant.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as aioredis
from pyrate_limiter import Duration, Limiter, Rate, RedisBucket
from redis.exceptions import RedisError

from rewind_common.graph.costs import RequestCost


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
                await reads.try_acquire_async("reads", weight=min(cost.resource_units, 1000))
            if writes is not None and cost.writes:
                await writes.try_acquire_async("writes", weight=cost.writes)
        except RedisError:
            # The budget is an optimisation: without Redis, Graph's own 429s still hold
            # the line, and the retry middleware honours them.
            return

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
        try:
            raw = await self._redis.get(self._pause_key)
        except RedisError:
            return
        if raw is None:
            return
        remaining = int(raw) / 1000 - time.time()
        if remaining > 0:
            await asyncio.sleep(min(remaining, 300))

    async def pause(self, seconds: float) -> None:
        """Graph said 429: hold every process's requests for this tenant."""
        until_ms = int((time.time() + seconds) * 1000)
        try:
            await self._redis.set(self._pause_key, until_ms, px=max(int(seconds * 1000), 1))
        except RedisError:
            return
