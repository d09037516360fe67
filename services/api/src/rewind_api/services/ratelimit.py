"""A per-tenant budget of new jobs per minute, shared by every API process (Redis)."""

from __future__ import annotations

import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from rewind_common.errors import DependencyUnavailable, RateLimited

_WINDOW_SECONDS = 60


class JobRateLimiter:
    """Fixed one-minute windows: cheap, and good enough to stop a runaway script."""

    def __init__(self, redis: aioredis.Redis, per_minute: int) -> None:
        self._redis = redis
        self._per_minute = per_minute

    async def check(self, tenant_id: str, *, now: float | None = None) -> None:
        """Count one new job for ``tenant_id``; raises ``RateLimited`` over the budget."""
        if self._per_minute <= 0:
            return
        now = time.time() if now is None else now
        window = int(now // _WINDOW_SECONDS)
        key = f"rewind:ratelimit:jobs:{tenant_id}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, _WINDOW_SECONDS * 2)
                count, _ = await pipe.execute()
        except RedisError as exc:
            raise DependencyUnavailable(f"Redis unreachable: {exc}") from exc
        if int(count) > self._per_minute:
            retry_after = (window + 1) * _WINDOW_SECONDS - now
            raise RateLimited(
                f"tenant {tenant_id} may start {self._per_minute} jobs a minute; try again shortly",
                retry_after_seconds=retry_after,
            )
