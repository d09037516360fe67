"""Per-job coordination in Redis: status sequence numbers, cancel requests, the lease
that keeps two deliveries of the same job from running at once, and who ends a job
canceled before it started.

A job canceled while its recorded status is still ``Queued`` may in fact have started:
the status recorder can lag behind a worker. The API ends such a job itself only if no
worker has claimed it (``cancel_unstarted``), and a worker runs a job only if the API
has not ended it so (``claim_start``): one atomic key decides, so a job never ends both
``Canceled`` by the API and ``Completed`` by a worker that had already finished."""

from __future__ import annotations

import secrets

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from rewind_common.errors import DependencyUnavailable

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_CLAIM_START = """
if redis.call('get', KEYS[1]) == 'canceled' then return 0 end
redis.call('set', KEYS[1], 'started', 'EX', ARGV[1])
return 1
"""
_KEY_TTL_SECONDS = 30 * 24 * 3600


def _unavailable(exc: RedisError) -> DependencyUnavailable:
    return DependencyUnavailable(f"Redis unreachable: {exc}")


class JobControl:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    @staticmethod
    def _key(kind: str, job_id: str) -> str:
        return f"rewind:job:{job_id}:{kind}"

    async def next_seq(self, job_id: str) -> int:
        """A number greater than any this job's messages carried before, in any process."""
        key = self._key("seq", job_id)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, _KEY_TTL_SECONDS)
                value, _ = await pipe.execute()
        except RedisError as exc:
            raise _unavailable(exc) from exc
        return int(value)

    async def request_cancel(self, job_id: str) -> None:
        try:
            await self._redis.set(self._key("cancel", job_id), "1", ex=_KEY_TTL_SECONDS)
        except RedisError as exc:
            raise _unavailable(exc) from exc

    async def cancel_unstarted(self, job_id: str) -> bool:
        """True if no worker has started the job: it is now marked canceled before its
        start, and no worker will run it (the caller reports it ``Canceled``)."""
        try:
            marked = await self._redis.set(
                self._key("start", job_id), "canceled", nx=True, ex=_KEY_TTL_SECONDS
            )
        except RedisError as exc:
            raise _unavailable(exc) from exc
        return bool(marked)

    async def claim_start(self, job_id: str) -> bool:
        """True if the job may run (again): False once it was canceled before its start."""
        try:
            claimed = await self._redis.eval(
                _CLAIM_START, 1, self._key("start", job_id), str(_KEY_TTL_SECONDS)
            )
        except RedisError as exc:
            raise _unavailable(exc) from exc
        return bool(claimed)

    async def cancel_requested(self, job_id: str) -> bool:
        try:
            return bool(await self._redis.exists(self._key("cancel", job_id)))
        except RedisError as exc:
            raise _unavailable(exc) from exc

    async def acquire_lease(self, job_id: str, ttl_ms: int) -> str | None:
        """A token if this process now holds the job's lease, else None."""
        token = secrets.token_hex(16)
        try:
            acquired = await self._redis.set(self._key("lease", job_id), token, nx=True, px=ttl_ms)
        except RedisError as exc:
            raise _unavailable(exc) from exc
        return token if acquired else None

    async def lease_remaining_ms(self, job_id: str) -> int:
        """How long the job's current lease has left (0 when none is held)."""
        try:
            remaining = int(await self._redis.pttl(self._key("lease", job_id)))
        except RedisError as exc:
            raise _unavailable(exc) from exc
        return max(remaining, 0)

    async def renew_lease(self, job_id: str, token: str, ttl_ms: int) -> bool:
        try:
            renewed = await self._redis.eval(
                _RENEW, 1, self._key("lease", job_id), token, str(ttl_ms)
            )
        except RedisError as exc:
            raise _unavailable(exc) from exc
        return bool(renewed)

    async def release_lease(self, job_id: str, token: str) -> None:
        try:
            await self._redis.eval(_RELEASE, 1, self._key("lease", job_id), token)
        except RedisError as exc:
            raise _unavailable(exc) from exc
