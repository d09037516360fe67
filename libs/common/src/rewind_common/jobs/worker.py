"""Everything a Celery worker shares: one task per job kind running one step per
delivery (in a fresh event loop with its own connections, re-enqueueing itself when the
job has more to do), Graph clients bound to the tenant's shared budget, and the
``rewind-<worker> [--concurrency N]`` entry point."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from celery import Celery

from rewind_common.graph.client import GraphClient, open_graph_client
from rewind_common.jobs.control import JobControl
from rewind_common.jobs.reporter import Publisher, celery_publisher
from rewind_common.jobs.runner import JobHandler, JobRunner, StepDecision
from rewind_common.logging import configure_logging
from rewind_common.metrics import graph_observer, serve_metrics
from rewind_common.redis_client import async_redis
from rewind_common.settings import Settings, TenantConnection, get_settings
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo
from rewind_common.tasks import TASK_QUEUES, JobPayload, Queue, TaskName

log = logging.getLogger(__name__)

#: Opens a Graph client for a tenant (the real one, or a test's in-process emulator).
GraphOpener = Callable[[TenantConnection], contextlib.AbstractAsyncContextManager[GraphClient]]

#: Collect young objects this rarely: a job allocates millions of short-lived objects,
#: freed by reference counting, while the objects it holds at a time (a batch of pages
#: and their records) stay well under this many. Measured: 20,000 cost a snapshot of
#: 100,000 objects about 30 collections and 0.2 s; this many, none. Cyclic garbage
#: waits for at most this many objects.
GC_THRESHOLD = 100_000


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
    mongo = Mongo.of(settings)
    redis = async_redis(settings.redis_url.get_secret_value())
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


def tune_gc_for_jobs() -> None:
    """msgraph-sdk's models leave hundreds of thousands of long-lived objects at import:
    keep them out of every collection, and collect young objects less often. Measured:
    a fifth less CPU per snapshot."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 50, 100)


def graph_opener(context: WorkerContext) -> GraphOpener:
    """Graph clients sharing the tenant's throttling budget through the step's Redis, and
    counting their requests for Prometheus."""

    @contextlib.asynccontextmanager
    async def open_graph(tenant: TenantConnection) -> AsyncIterator[GraphClient]:
        async with open_graph_client(
            tenant,
            context.settings,
            redis=context.redis,
            observe=graph_observer(tenant.tenant_id),
        ) as client:
            yield client

    return open_graph


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
            context.jobs,
            context.control,
            publish,
            step_seconds=settings.job_step_seconds,
            lease_seconds=settings.job_lease_seconds,
            redelivery_seconds=settings.celery_visibility_timeout_seconds,
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


def served_queues(app: Celery) -> set[Queue]:
    """The queues whose every task ``app`` registers. A worker must consume no other: it
    would acknowledge a message of a task it does not know and drop the job with it."""
    registered = set(app.tasks)
    return {
        queue
        for queue in set(TASK_QUEUES.values())
        if all(name.value in registered for name, routed in TASK_QUEUES.items() if routed is queue)
    }


def worker_queues(app: Celery, requested: str) -> list[Queue]:
    """The queues of a ``--queues`` value (comma-separated), each one ``app`` serves."""
    names = [name.strip() for name in requested.split(",") if name.strip()]
    known = {queue.value: queue for queue in served_queues(app)}
    unknown = [name for name in names if name not in known]
    if not names or unknown:
        raise ValueError(
            f"--queues must name one or more of {', '.join(sorted(known))}"
            + (f"; not {', '.join(unknown)}" if unknown else "")
        )
    return [known[name] for name in dict.fromkeys(names)]


def run_worker(
    name: str,
    queue: Queue,
    description: str,
    create_app: Callable[[Settings], Celery],
    argv: Sequence[str] | None = None,
) -> None:
    """The ``rewind-<name>`` command: a prefork Celery worker consuming ``queue`` (or the
    queues ``--queues`` names, among those the app serves), with metrics served from the
    parent process when ``REWIND_METRICS_PORT`` is set."""
    parser = argparse.ArgumentParser(prog=f"rewind-{name}", description=description)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--queues",
        default=queue.value,
        help="comma-separated queues to consume (default: %(default)s)",
    )
    options = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    try:
        queues = worker_queues(app, options.queues)
    except ValueError as exc:
        parser.error(str(exc))
    serve_metrics(settings.metrics_port)
    tune_gc_for_jobs()  # forked pool processes inherit it
    worker_argv = [
        "worker",
        "--queues", ",".join(queue.value for queue in queues),
        "--concurrency", str(max(options.concurrency, 1)),
        "--pool", "prefork",
        "--hostname", f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--loglevel", settings.log_level,
    ]  # fmt: skip
    app.worker_main(worker_argv)
