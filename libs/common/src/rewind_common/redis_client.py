"""Redis clients configured once for every service.

A Redis restart (or a failover) closes pooled connections; the next command on one of
them fails although the server is back. Every client here retries such a command on a
fresh connection, with a short backoff, before reporting Redis unavailable.
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

_RETRIED = [RedisConnectionError, RedisTimeoutError]
_RETRIES = 5


def _backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=2.0, base=0.1)


def async_redis(
    url: str, *, socket_timeout: float = 10.0, retries: int = _RETRIES
) -> aioredis.Redis:
    """``retries``: a request handler answering people keeps it small (fail fast, 503);
    a worker can afford to wait for Redis to come back."""
    return aioredis.Redis.from_url(
        url, retry=AsyncRetry(_backoff(), retries), **_options(socket_timeout)
    )


def sync_redis(url: str, *, socket_timeout: float = 10.0, retries: int = _RETRIES) -> redis.Redis:
    return redis.Redis.from_url(url, retry=Retry(_backoff(), retries), **_options(socket_timeout))


def _options(socket_timeout: float) -> dict[str, Any]:
    """What both clients share: timeouts, health checks, the errors retried."""
    return {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": min(socket_timeout, 5.0),
        "health_check_interval": 15,
        "retry_on_error": _RETRIED,
    }
