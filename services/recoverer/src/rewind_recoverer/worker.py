"""The recoverer's Celery app: recovery jobs on the ``recoveries`` queue.

``rewind-recoverer [--concurrency N]`` starts a worker. The task is thin: each delivery
runs one step of a recovery through ``JobRunner``; the work is in ``handler``.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from celery import Celery

from rewind_common.celery_config import create_celery
from rewind_common.graph.client import GraphClient, open_graph_client
from rewind_common.jobs.runner import JobHandler
from rewind_common.jobs.worker import WorkerContext
from rewind_common.logging import configure_logging
from rewind_common.metrics import graph_observer, serve_metrics
from rewind_common.settings import Settings, TenantConnection, get_settings
from rewind_common.storage.pre_recovery import PreRecoverySnapshots
from rewind_common.storage.recoveries import RecoveryStore
from rewind_common.storage.reports import ReportStore
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tasks import Queue, TaskName
from rewind_recoverer.handler import GraphOpener, RecoveryHandler
from rewind_recoverer.reports import report_changes
from rewind_recoverer.steps import register_step_task


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
    register_step_task(app, TaskName.RECOVERY, settings, handler_factory)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="rewind-recoverer", description="Rewind's recovery worker."
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
            Queue.RECOVERIES.value,
            "--concurrency",
            str(max(options.concurrency, 1)),
            "--pool",
            "prefork",
            "--hostname",
            "recoverer@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            settings.log_level,
        ]
    )


if __name__ == "__main__":
    main()
