"""What a running API process holds: its settings and one connection to each dependency,
opened by the app's lifespan and handed to routes through ``get_state``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from celery import Celery
from fastapi import Request
from kombu.exceptions import OperationalError
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from rewind_api.events import JobEvents
from rewind_common.celery_config import create_celery
from rewind_common.errors import DependencyUnavailable
from rewind_common.jobs.control import JobControl
from rewind_common.redis_client import async_redis
from rewind_common.settings import Settings
from rewind_common.storage.idempotency import IdempotencyRepository
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.storage.tokens import TokenRepository
from rewind_common.tasks import TASK_QUEUES, TaskName

log = logging.getLogger(__name__)

#: How long the API waits for a dependency before answering 503.
DEPENDENCY_TIMEOUT_SECONDS = 3.0


@dataclass
class AppState:
    settings: Settings
    mongo: Mongo
    redis: aioredis.Redis
    celery: Celery
    jobs: JobRepository
    snapshots: SnapshotStore
    tokens: TokenRepository
    idempotency: IdempotencyRepository
    control: JobControl
    events: JobEvents
    indexes_ready: bool = False

    async def ensure_indexes(self) -> None:
        """Create the indexes once; retried by ``/readyz`` when MongoDB was down at start."""
        if self.indexes_ready:
            return
        try:
            await asyncio.wait_for(self.mongo.ensure_indexes(), DEPENDENCY_TIMEOUT_SECONDS * 3)
        except (PyMongoError, TimeoutError) as exc:
            raise DependencyUnavailable(f"MongoDB unavailable: {exc}") from exc
        await self.tokens.ensure_indexes()
        await self.idempotency.ensure_indexes()
        self.indexes_ready = True

    async def send_task(self, name: TaskName, payload: dict[str, Any]) -> None:
        """Enqueue a task by name (the API never imports worker code)."""
        try:
            await asyncio.to_thread(
                self.celery.send_task,
                name.value,
                args=[payload],
                queue=TASK_QUEUES[name].value,
            )
        except (OperationalError, RedisError, OSError, TimeoutError) as exc:
            raise DependencyUnavailable(f"cannot enqueue {name.value}: Redis unreachable") from exc


@contextlib.asynccontextmanager
async def open_state(settings: Settings) -> AsyncIterator[AppState]:
    mongo = Mongo.of(settings)
    redis = async_redis(
        settings.redis_url.get_secret_value(), socket_timeout=DEPENDENCY_TIMEOUT_SECONDS, retries=2
    )
    celery = create_celery(
        "rewind-api",
        settings,
        # A request should fail fast (503) rather than hang while Redis is away.
        broker_connection_timeout=DEPENDENCY_TIMEOUT_SECONDS,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0.1,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
    )
    state = AppState(
        settings=settings,
        mongo=mongo,
        redis=redis,
        celery=celery,
        jobs=JobRepository(mongo),
        snapshots=SnapshotStore(mongo, cache_seconds=settings.api_cache_seconds),
        tokens=TokenRepository(mongo, cache_seconds=settings.api_cache_seconds),
        idempotency=IdempotencyRepository(mongo),
        control=JobControl(redis),
        events=JobEvents(redis),
    )
    try:
        await state.ensure_indexes()
    except DependencyUnavailable as exc:
        log.warning("MongoDB not ready at start (%s); /readyz retries the indexes", exc)
    try:
        yield state
    finally:
        celery.close()
        await redis.aclose()
        await mongo.close()


def get_state(request: Request) -> AppState:
    state = request.app.state.rewind
    assert isinstance(state, AppState)
    return state
