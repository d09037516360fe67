"""The recoverer's Celery app: recovery jobs on the ``recoveries`` queue.

``rewind-recoverer [--concurrency N]`` starts a worker. The task is thin: each delivery
runs one step of a recovery through ``JobRunner``; the work is in ``handler``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery

from rewind_common.celery_config import create_celery
from rewind_common.jobs.runner import JobHandler
from rewind_common.jobs.worker import WorkerContext, graph_opener, register_job_task, run_worker
from rewind_common.settings import Settings, get_settings
from rewind_common.storage.pre_recovery import PreRecoverySnapshots
from rewind_common.storage.recoveries import RecoveryStore
from rewind_common.storage.reports import ReportStore
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tasks import Queue, TaskName
from rewind_recoverer.handler import RecoveryHandler
from rewind_recoverer.reports import report_changes


async def handler_factory(context: WorkerContext, payload: dict[str, Any]) -> JobHandler:
    store = SnapshotStore(context.mongo)
    return RecoveryHandler(
        context.settings,
        store,
        RecoveryStore(context.mongo),
        PreRecoverySnapshots(context.mongo, store),
        graph_opener(context),
        report_changes(ReportStore(context.mongo)),
    )


def create_app(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    app = create_celery("rewind-recoverer", settings)
    register_job_task(app, TaskName.RECOVERY, settings, handler_factory)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    run_worker("recoverer", Queue.RECOVERIES, "Rewind's recovery worker.", create_app, argv)


if __name__ == "__main__":
    main()
