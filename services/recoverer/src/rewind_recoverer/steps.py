"""Celery tasks that run recovery steps (``rewind_common.jobs``), one step per delivery.

After ``kill -9`` the killed worker's job lease stays in Redis until it expires (a
minute) while Redis redelivers the unacknowledged message after the visibility timeout.
``JobRunner`` drops a delivery that finds the lease held, which is right for a duplicate
of a running job and wrong for the only copy of a killed one: so a delivery that could
not take the lease of a job still running is sent again a little later, until the
lease is free or the job has ended. (The snapshotter does the same; this belongs in
``rewind_common.jobs.worker`` for every worker.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from celery import Celery

from rewind_common.jobs.control import JobControl
from rewind_common.jobs.reporter import Publisher, celery_publisher
from rewind_common.jobs.runner import JobHandler, JobRunner, Outcome, StepContext, StepDecision
from rewind_common.jobs.worker import HandlerFactory, open_context
from rewind_common.settings import Settings
from rewind_common.tasks import TASK_QUEUES, JobPayload, TaskName

log = logging.getLogger(__name__)


class _Tracked:
    """Notes whether the runner got as far as the handler."""

    def __init__(self, handler: JobHandler) -> None:
        self.handler = handler
        self.ran = False

    async def step(self, context: StepContext) -> Outcome | None:
        self.ran = True
        return await self.handler.step(context)

    async def canceled(self, context: StepContext) -> Mapping[str, Any]:
        self.ran = True
        return await self.handler.canceled(context)


def lease_key(job_id: str) -> str:
    return JobControl._key("lease", job_id)


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
        tracked = _Tracked(await factory(context, payload))
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
