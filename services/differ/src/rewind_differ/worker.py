"""The differ's Celery app: difference report jobs on the ``diffs`` queue.

``rewind-differ [--concurrency N]`` starts a worker (metrics served from the parent
process when ``REWIND_METRICS_PORT`` is set). Tasks are thin: each runs one step of a
job through ``JobRunner``; the work is in ``handler.DiffHandler``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import Celery

from rewind_common.celery_config import create_celery
from rewind_common.errors import DependencyUnavailable
from rewind_common.jobs.runner import JobHandler
from rewind_common.jobs.worker import WorkerContext, graph_opener, register_job_task, run_worker
from rewind_common.settings import Settings, get_settings
from rewind_common.storage.report_staging import ReportStaging
from rewind_common.storage.reports import ReportStore
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tasks import Queue, TaskName
from rewind_differ.handler import DiffHandler

log = logging.getLogger(__name__)

_indexes_checked = False


async def _ensure_indexes(reports: ReportStore, staging: ReportStaging) -> None:
    """Create the report indexes once per process. Best effort: a deployment whose
    MongoDB role may not create indexes has them created by its administrator, and a
    report must not fail for an index it can do without."""
    global _indexes_checked
    if _indexes_checked:
        return
    try:
        await reports.ensure_indexes()
        await staging.ensure_indexes()
    except DependencyUnavailable as exc:
        log.warning("could not create the difference report indexes: %s", exc.message)
    _indexes_checked = True


async def handler_factory(context: WorkerContext, payload: dict[str, Any]) -> JobHandler:
    reports = ReportStore(context.mongo)
    staging = ReportStaging(context.mongo)
    await _ensure_indexes(reports, staging)
    return DiffHandler(
        context.settings, SnapshotStore(context.mongo), reports, staging, graph_opener(context)
    )


def create_app(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    app = create_celery("rewind-differ", settings)
    register_job_task(app, TaskName.DIFFERENCE_REPORT, settings, handler_factory)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    run_worker("differ", Queue.DIFFS, "Rewind's difference report worker.", create_app, argv)


if __name__ == "__main__":
    main()
