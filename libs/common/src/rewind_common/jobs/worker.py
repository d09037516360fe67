"""Glue between Celery and job handlers: one task per job kind, each running one step
in a fresh event loop with its own connections, then re-enqueueing itself if needed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from celery import Celery

from rewind_common.jobs.control import JobControl
from rewind_common.jobs.reporter import Publisher, celery_publisher
from rewind_common.jobs.runner import JobHandler, JobRunner, StepDecision
from rewind_common.settings import Settings
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo
from rewind_common.tasks import TASK_QUEUES, JobPayload, TaskName

log = logging.getLogger(__name__)


@dataclass
class WorkerContext:
    """Connections a step may use; opened for the step and closed after it."""

    settings: Settings
    mongo: Mongo
    redis: aioredis.Redis
    jobs: JobRepository
    control: JobControl
    publish: Publisher


HandlerFactory = Callable[[WorkerContext, dict[str, Any]], Awaitable[JobHandler]]


@contextlib.asynccontextmanager
async def open_context(settings: Settings, publish: Publisher) -> AsyncIterator[WorkerContext]:
    mongo = Mongo(settings.mongo_url.get_secret_value(), settings.mongo_database)
    redis = aioredis.Redis.from_url(
        settings.redis_url.get_secret_value(), socket_timeout=10, socket_connect_timeout=5
    )
    try:
        yield WorkerContext(
            settings=settings,
            mongo=mongo,
            redis=redis,
            jobs=JobRepository(mongo),
            control=JobControl(redis),
            publish=publish,
        )
    finally:
        await redis.aclose()
        await mongo.close()


async def run_job_step(
    settings: Settings,
    publish: Publisher,
    payload: dict[str, Any],
    factory: HandlerFactory,
    attempt: int,
) -> StepDecision:
    job_id = JobPayload.model_validate(payload).job_id
    async with open_context(settings, publish) as context:
        runner = JobRunner(
            context.jobs, context.control, publish, step_seconds=settings.job_step_seconds
        )
        handler = await factory(context, payload)
        return await runner.run_step(job_id, payload, handler, attempt=attempt)


def register_job_task(
    app: Celery, name: TaskName, settings: Settings, factory: HandlerFactory
) -> Any:
    """Register the Celery task ``name`` running jobs with handlers from ``factory``."""
    publish = celery_publisher(app)
    queue = TASK_QUEUES[name].value

    @app.task(name=name.value, bind=True)
    def run(task: Any, payload: dict[str, Any], attempt: int = 0) -> None:
        decision = asyncio.run(run_job_step(settings, publish, payload, factory, attempt))
        if decision.enqueue_again:
            app.send_task(
                name.value,
                args=[payload],
                kwargs={"attempt": decision.attempt},
                queue=queue,
                countdown=decision.delay or None,
                retry=True,
                retry_policy={"max_retries": 30, "interval_start": 0.5, "interval_max": 5.0},
            )

    return run
