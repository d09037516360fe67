"""The differ's Celery app: difference report jobs on the ``diffs`` queue.

``rewind-differ [--concurrency N]`` starts a worker (metrics served from the parent
process when ``REWIND_METRICS_PORT`` is set). Tasks are thin: each runs one step of a
job through ``JobRunner``; the work is in ``handler.DiffHandler``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from celery import Celery

from rewind_common.celery_config import create_celery
from rewind_common.errors import DependencyUnavailable
from rewind_common.graph.client import GraphClient, open_graph_client
from rewind_common.jobs.runner import JobHandler
from rewind_common.jobs.worker import WorkerContext
from rewind_common.logging import configure_logging
from rewind_common.metrics import graph_observer, serve_metrics
from rewind_common.settings import Settings, TenantConnection, get_settings
from rewind_common.storage.report_staging import ReportStaging
from rewind_common.storage.reports import ReportStore
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tasks import Queue, TaskName
from rewind_differ.handler import DiffHandler, GraphOpener
from rewind_differ.steps import register_step_task

log = logging.getLogger(__name__)


def graph_opener(context: WorkerContext) -> GraphOpener:
    """Graph clients sharing the tenant's throttling budget through the step's Redis."""

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
    # Kombu looks for messages a dead worker left unacknowledged only every
    # interval × throttle seconds (100 by default), whatever the visibility timeout:
    # look as often as a fifth of the timeout, so a killed worker's report resumes soon.
    transport = dict(app.conf.broker_transport_options or {})
    timeout = settings.celery_visibility_timeout_seconds
    transport["unacked_restore_interval"] = max(1, min(10, timeout // 5))
    transport["unacked_restore_throttle"] = 1
    app.conf.broker_transport_options = transport
    register_step_task(app, TaskName.DIFFERENCE_REPORT, settings, handler_factory)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="rewind-differ", description="Rewind's difference report worker."
    )
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    options = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    serve_metrics(settings.metrics_port)
    app = create_app(settings)
    app.worker_main(
        [
            "worker",
            "--queues",
            Queue.DIFFS.value,
            "--concurrency",
            str(max(options.concurrency, 1)),
            "--pool",
            "prefork",
            "--hostname",
            "differ@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            settings.log_level,
        ]
    )


if __name__ == "__main__":
    main()
