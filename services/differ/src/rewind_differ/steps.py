"""Celery tasks that run difference report steps (``rewind_common.jobs``), one step per
delivery, exactly as the snapshotter runs its own (a candidate for ``rewind_common``).

Like ``rewind_common.jobs.worker.register_job_task``, with what matters after
``kill -9``: the killed worker's job lease stays in Redis until it expires (a minute),
while Redis redelivers the unacknowledged message after the visibility timeout
(seconds). ``JobRunner`` drops a delivery that finds the lease held, which is right for
a duplicate of a running job and wrong for the only copy of a killed one. So:

- while a step runs, its worker refreshes a short heartbeat key next to the lease;
- a delivery that finds the lease held without a heartbeat, twice, ``DEAD_LEASE_CHECK``
  seconds apart (a live step starts its heartbeat within milliseconds of taking the
  lease), removes that lease, if it is still the same one, and runs the step;
- a delivery that still cannot take the lease of a running job is sent again a little
  later, until the lease is free or the job has ended. Retries are shorter than the
  visibility timeout: a message held for later past it would be delivered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis
from celery import Celery
from redis.exceptions import RedisError

from rewind_common.jobs.control import JobControl
from rewind_common.jobs.reporter import Publisher, celery_publisher
from rewind_common.jobs.runner import JobHandler, JobRunner, Outcome, StepContext, StepDecision
from rewind_common.jobs.worker import HandlerFactory, open_context
from rewind_common.settings import Settings
from rewind_common.tasks import TASK_QUEUES, JobPayload, TaskName

log = logging.getLogger(__name__)


HEARTBEAT_MS = 3000
DEAD_LEASE_CHECK = 2.0
_DELETE_IF_SAME = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def heartbeat_key(job_id: str) -> str:
    return f"rewind:job:{job_id}:alive"


class _Tracked:
    """Notes whether the runner got as far as the handler, and keeps a heartbeat while
    the handler works."""

    def __init__(self, handler: JobHandler, redis: aioredis.Redis) -> None:
        self.handler = handler
        self.redis = redis
        self.ran = False

    async def step(self, context: StepContext) -> Outcome | None:
        self.ran = True
        beat = asyncio.create_task(self._beat(context.job.id))
        try:
            return await self.handler.step(context)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError):
                await beat
                await self.redis.delete(heartbeat_key(context.job.id))

    async def _beat(self, job_id: str) -> None:
        while True:
            with contextlib.suppress(RedisError):
                await self.redis.set(heartbeat_key(job_id), "1", px=HEARTBEAT_MS)
            await asyncio.sleep(HEARTBEAT_MS / 3000)

    async def canceled(self, context: StepContext) -> Mapping[str, Any]:
        self.ran = True
        return await self.handler.canceled(context)


def lease_key(job_id: str) -> str:
    # JobControl's own naming: the lease this delivery could not take.
    return JobControl._key("lease", job_id)


async def clear_dead_lease(redis: aioredis.Redis, job_id: str) -> bool:
    """Remove the lease of a job whose holder stopped beating (a killed worker)."""
    try:
        holder = await redis.get(lease_key(job_id))
        if holder is None or await redis.exists(heartbeat_key(job_id)):
            return False
        await asyncio.sleep(DEAD_LEASE_CHECK)
        if await redis.exists(heartbeat_key(job_id)):
            return False
        removed = await redis.eval(_DELETE_IF_SAME, 1, lease_key(job_id), holder)
    except RedisError:
        return False
    if removed:
        log.warning("job %s: its worker stopped without releasing it; taking over", job_id)
    return bool(removed)


async def run_step(
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
        await clear_dead_lease(context.redis, job_id)
        tracked = _Tracked(await factory(context, payload), context.redis)
        decision = await runner.run_step(job_id, payload, tracked, attempt=attempt)
        if tracked.ran or decision.enqueue_again:
            return decision
        job = await context.jobs.find(job_id)
        if job is None or job.status.terminal:
            return decision
        held_ms = int(await context.redis.pttl(lease_key(job_id)))
        if held_ms <= 0:
            return StepDecision(enqueue_again=True, delay=0.5, attempt=attempt)
        wait = min(held_ms / 1000 + 0.5, settings.celery_visibility_timeout_seconds / 2)
        log.info("job %s is leased elsewhere; trying again in %.1fs", job_id, wait)
        return StepDecision(enqueue_again=True, delay=wait, attempt=attempt)


def register_step_task(
    app: Celery, name: TaskName, settings: Settings, factory: HandlerFactory
) -> Any:
    """Register the Celery task ``name`` running job steps with ``factory``'s handlers."""
    publish = celery_publisher(app)
    queue = TASK_QUEUES[name].value

    @app.task(name=name.value, bind=True)
    def run(task: Any, payload: dict[str, Any], attempt: int = 0) -> None:
        decision = asyncio.run(run_step(settings, publish, payload, factory, attempt))
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
