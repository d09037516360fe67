"""Scheduled snapshots, retention and verification.

``rewind-scheduler --schedule PATH`` is Celery beat with one entry: every minute it sends
``rewind.snapshot.schedule`` to the snapshots queue. That task (``schedule_tick``, run by
a snapshotter) creates, for each configured tenant:

- a snapshot job when the tenant's interval (``snapshot_interval_minutes``, or the
  tenant's own; 0 turns it off) has passed since its latest snapshot and its latest
  snapshot job, and no snapshot job of the tenant is running;
- a retention job every ``retention_interval_minutes``, sent to the retention queue;
- a verify job of its newest snapshot every ``verify_interval_minutes`` (daily by
  default; 0 turns it off): a stored snapshot that no longer matches its hashes is found
  by a schedule, not only when someone thinks of asking.

Jobs are created the way the API creates them: the job document first (``createdBy``
``scheduler``), then the task. A short Redis lock per tenant keeps two ticks (two beats,
or a tick delivered twice) from creating two jobs.
"""

from __future__ import annotations

import argparse
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from rewind_common.celery_config import create_celery
from rewind_common.ids import new_id
from rewind_common.jobs.model import Job, JobKind, JobStatus, utcnow
from rewind_common.logging import configure_logging
from rewind_common.metrics import serve_metrics
from rewind_common.redis_client import async_redis
from rewind_common.settings import Settings, TenantConnection, get_settings
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tasks import (
    TASK_QUEUES,
    JobPayload,
    Queue,
    RetentionPayload,
    SnapshotPayload,
    TaskName,
    VerifyPayload,
)

log = logging.getLogger(__name__)

CREATED_BY = "scheduler"
TICK_SECONDS = 60.0
_LOCK_SECONDS = 50
_RUNNING = (JobStatus.QUEUED, JobStatus.LOADING_DATA, JobStatus.IN_PROGRESS)


def is_due(last: datetime | None, interval_minutes: int, now: datetime) -> bool:
    if interval_minutes <= 0:
        return False
    return last is None or now - last >= timedelta(minutes=interval_minutes)


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        jobs: JobRepository,
        store: SnapshotStore,
        redis: aioredis.Redis,
        send_task: Any,
    ) -> None:
        self._settings = settings
        self._jobs = jobs
        self._store = store
        self._redis = redis
        self._send_task = send_task

    def _send(self, name: TaskName, payload: JobPayload) -> None:
        """Send a task to its queue (retention's is not the snapshots queue)."""
        self._send_task(name.value, args=[payload.dump()], queue=TASK_QUEUES[name].value)

    async def tick(self, now: datetime | None = None) -> list[Job]:
        """Create the jobs that are due; returns them."""
        now = now or utcnow()
        created: list[Job] = []
        for tenant in self._settings.tenants:
            lock = f"rewind:schedule:{tenant.tenant_id}"
            if not await self._redis.set(lock, "1", nx=True, ex=_LOCK_SECONDS):
                continue
            snapshot = await self._snapshot_if_due(tenant, now)
            if snapshot is not None:
                created.append(snapshot)
            retention = await self._retention_if_due(tenant, now)
            if retention is not None:
                created.append(retention)
            verify = await self._verify_if_due(tenant, now)
            if verify is not None:
                created.append(verify)
        return created

    async def _snapshot_if_due(self, tenant: TenantConnection, now: datetime) -> Job | None:
        tenant_id = tenant.tenant_id
        for status in _RUNNING:
            running, _ = await self._jobs.page(
                tenant_id, kind=JobKind.SNAPSHOT, status=status, limit=1
            )
            if running:
                return None
        latest = await self._store.latest(tenant_id)
        jobs, _ = await self._jobs.page(tenant_id, kind=JobKind.SNAPSHOT, limit=1)
        times = [t for t in (latest.created_at if latest else None,) if t is not None]
        times += [job.created_at for job in jobs]
        last = max(times) if times else None
        if not is_due(last, self._settings.snapshot_interval_minutes_of(tenant), now):
            return None
        snapshot_id = new_id()
        job = Job(
            id=new_id(),
            tenant_id=tenant_id,
            kind=JobKind.SNAPSHOT,
            created_by=CREATED_BY,
            parameters={"mode": None, "snapshotId": snapshot_id},
        )
        await self._jobs.insert(job)
        payload = SnapshotPayload(job_id=job.id, tenant_id=tenant_id, snapshot_id=snapshot_id)
        self._send(TaskName.SNAPSHOT, payload)
        log.info("scheduled snapshot %s of tenant %s (job %s)", snapshot_id, tenant_id, job.id)
        return job

    async def _retention_if_due(self, tenant: TenantConnection, now: datetime) -> Job | None:
        tenant_id = tenant.tenant_id
        jobs, _ = await self._jobs.page(tenant_id, kind=JobKind.RETENTION, limit=1)
        last = jobs[0].created_at if jobs else None
        if jobs and jobs[0].status in _RUNNING:
            return None
        if not is_due(last, self._settings.retention_interval_minutes, now):
            return None
        job = Job(id=new_id(), tenant_id=tenant_id, kind=JobKind.RETENTION, created_by=CREATED_BY)
        await self._jobs.insert(job)
        payload = RetentionPayload(job_id=job.id, tenant_id=tenant_id)
        self._send(TaskName.RETENTION, payload)
        return job

    async def _verify_if_due(self, tenant: TenantConnection, now: datetime) -> Job | None:
        tenant_id = tenant.tenant_id
        jobs, _ = await self._jobs.page(tenant_id, kind=JobKind.VERIFY, limit=1)
        if jobs and jobs[0].status in _RUNNING:
            return None
        last = jobs[0].created_at if jobs else None
        if not is_due(last, self._settings.verify_interval_minutes, now):
            return None
        newest = await self._store.latest(tenant_id)
        if newest is None:
            return None
        job = Job(
            id=new_id(),
            tenant_id=tenant_id,
            kind=JobKind.VERIFY,
            created_by=CREATED_BY,
            parameters={"snapshotId": newest.id},
        )
        await self._jobs.insert(job)
        payload = VerifyPayload(job_id=job.id, tenant_id=tenant_id, snapshot_id=newest.id)
        self._send(TaskName.VERIFY, payload)
        log.info("scheduled verification of snapshot %s (job %s)", newest.id, job.id)
        return job


async def schedule_tick(settings: Settings, app: Any) -> list[Job]:
    """The scheduler task's body, with connections of its own."""
    mongo = Mongo.of(settings)
    redis = async_redis(settings.redis_url.get_secret_value())
    try:
        scheduler = Scheduler(
            settings, JobRepository(mongo), SnapshotStore(mongo), redis, app.send_task
        )
        return await scheduler.tick()
    finally:
        await redis.aclose()
        await mongo.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="rewind-scheduler",
        description="Celery beat: schedules snapshots, retention and verification.",
    )
    parser.add_argument("--schedule", required=True, help="file where beat keeps its state")
    options = parser.parse_args(argv)
    Path(options.schedule).parent.mkdir(parents=True, exist_ok=True)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_celery("rewind-scheduler", settings)
    app.conf.beat_schedule = {
        "schedule-snapshots": {
            "task": TaskName.SCHEDULE_SNAPSHOTS.value,
            "schedule": TICK_SECONDS,
            # A tick nobody ran within the minute is replaced by the next one.
            "options": {"queue": Queue.SNAPSHOTS.value, "expires": TICK_SECONDS - 5},
        }
    }
    # beat's own process metrics: Prometheus sees the one scheduler up, or alerts
    serve_metrics(settings.metrics_port)
    app.start(["beat", "--schedule", options.schedule, "--loglevel", settings.log_level])


if __name__ == "__main__":
    main()
