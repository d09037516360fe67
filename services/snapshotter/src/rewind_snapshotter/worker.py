"""The snapshotter's Celery app: snapshot and verify jobs and the scheduler's tick on the
``snapshots`` queue, retention jobs on the ``retention`` queue.

``rewind-snapshotter [--concurrency N] [--queues snapshots,retention]`` starts a worker,
consuming ``snapshots`` unless told otherwise. Retention, the only job that removes
snapshot data, has a queue of its own so that a deployment runs it in a worker of its
own, under the one database user allowed to remove; where the database has no users (the
local stack) one worker may consume both. Tasks are thin: each runs one step of a job
through ``JobRunner``; the work is in the handlers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from celery import Celery

from rewind_common.celery_config import create_celery
from rewind_common.jobs.runner import JobHandler
from rewind_common.jobs.worker import (
    HandlerFactory,
    WorkerContext,
    graph_opener,
    register_job_task,
    run_worker,
)
from rewind_common.settings import Settings, get_settings
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tasks import Queue, TaskName
from rewind_snapshotter.retention import RetentionHandler
from rewind_snapshotter.scheduler import schedule_tick
from rewind_snapshotter.snapshot.handler import SnapshotHandler, snapshot_job_store
from rewind_snapshotter.verify import VerifyHandler


def _own_store(context: WorkerContext) -> SnapshotStore:
    """A store caching only for its job: verify checks what is stored, not what an
    earlier job of the process read."""
    cache = context.settings.snapshot_chunk_cache_mb * 1024 * 1024
    return SnapshotStore(context.mongo, chunk_cache_bytes=cache)


def _factory(
    build: Callable[[WorkerContext, SnapshotStore], JobHandler],
    store: Callable[[WorkerContext], SnapshotStore] = _own_store,
) -> HandlerFactory:
    async def factory(context: WorkerContext, payload: dict[str, Any]) -> JobHandler:
        return build(context, store(context))

    return factory


def create_app(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    app = create_celery("rewind-snapshotter", settings)
    register_job_task(
        app,
        TaskName.SNAPSHOT,
        settings,
        _factory(
            lambda c, store: SnapshotHandler(c.settings, store, graph_opener(c)),
            lambda c: snapshot_job_store(c.mongo, c.settings),
        ),
    )
    register_job_task(
        app, TaskName.VERIFY, settings, _factory(lambda c, store: VerifyHandler(store))
    )
    register_job_task(
        app,
        TaskName.RETENTION,
        settings,
        _factory(lambda c, store: RetentionHandler(c.settings, store, c.jobs)),
    )

    @app.task(name=TaskName.SCHEDULE_SNAPSHOTS.value)
    def schedule() -> None:
        asyncio.run(schedule_tick(settings, app))

    return app


def main(argv: Sequence[str] | None = None) -> None:
    run_worker(
        "snapshotter",
        Queue.SNAPSHOTS,
        "Rewind's snapshot, verify and retention worker.",
        create_app,
        argv,
    )


if __name__ == "__main__":
    main()
