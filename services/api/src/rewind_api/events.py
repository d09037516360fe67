"""Live job updates over Redis pub/sub.

After applying a status message the recorder publishes the job, as the API shows it
(``views.job_view``), on the channel ``rewind:job-events:{jobId}``. Every API process
streams those to its server-sent-event listeners. Pub/sub keeps nothing for absent
listeners, so a listener subscribes first and reads the job's current state second;
``follow_job`` then drops anything older than what it already sent.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from rewind_common.errors import DependencyUnavailable
from rewind_common.jobs.model import JobStatus

CHANNEL_PREFIX = "rewind:job-events:"

JobJson = dict[str, Any]


def channel(job_id: str) -> str:
    return f"{CHANNEL_PREFIX}{job_id}"


def is_terminal(job: Mapping[str, Any]) -> bool:
    return JobStatus(job["status"]).terminal


class Subscription:
    """One job's channel, subscribed."""

    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub

    async def next(self, wait_seconds: float) -> JobJson | None:
        """The next published job, or None when ``wait_seconds`` pass without one."""
        try:
            message = await self._pubsub.get_message(
                ignore_subscribe_messages=True, timeout=wait_seconds
            )
        except RedisError as exc:
            raise DependencyUnavailable(f"Redis unreachable: {exc}") from exc
        if message is None or message.get("type") != "message":
            return None
        data = message["data"]
        decoded = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
        return decoded if isinstance(decoded, dict) else None


class JobEvents:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def publish(self, job: Mapping[str, Any]) -> int:
        """Publish a job's new state; returns how many API processes were listening."""
        try:
            return int(
                await self._redis.publish(channel(str(job["id"])), json.dumps(job, default=str))
            )
        except RedisError as exc:
            raise DependencyUnavailable(f"Redis unreachable: {exc}") from exc

    @contextlib.asynccontextmanager
    async def subscribe(self, job_id: str) -> AsyncIterator[Subscription]:
        pubsub = self._redis.pubsub()
        try:
            try:
                await pubsub.subscribe(channel(job_id))
            except RedisError as exc:
                raise DependencyUnavailable(f"Redis unreachable: {exc}") from exc
            yield Subscription(pubsub)
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]


async def follow_job(
    current: JobJson,
    subscription: Subscription,
    reload: Callable[[], Awaitable[JobJson]],
    *,
    poll_seconds: float = 10.0,
) -> AsyncIterator[JobJson]:
    """The job now, then each newer state, ending after a terminal one.

    Updates older than the last one sent (by the sequence number of the status message
    they reflect) and exact repeats are dropped. When nothing arrives for
    ``poll_seconds`` the job is read again, so an update lost on the way (a Redis
    reconnect) delays the stream but never stalls it.
    """
    last = current
    yield current
    while not is_terminal(last):
        update = await subscription.next(poll_seconds)
        if update is None:
            update = await reload()
        if update == last or int(update.get("seq", 0)) < int(last.get("seq", 0)):
            continue
        last = update
        yield update
