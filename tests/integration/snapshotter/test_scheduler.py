"""The scheduler's tick against real MongoDB and Redis: jobs created as the API creates
them, when due, never two snapshots of a tenant at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import JobKind, JobStatus, utcnow
from rewind_common.tasks import SnapshotPayload, TaskName
from rewind_snapshotter.scheduler import Scheduler
from tests.integration.snapshotter.support import Harness


class Sent:
    def __init__(self) -> None:
        self.tasks: list[tuple[str, dict[str, Any], str]] = []

    def __call__(self, name: str, *, args: list[dict[str, Any]], queue: str) -> None:
        self.tasks.append((name, args[0], queue))


async def test_a_tick_creates_due_snapshot_and_retention_jobs_once(harness: Harness) -> None:
    sent = Sent()
    scheduler = Scheduler(harness.settings, harness.jobs, harness.store, harness.redis, sent)

    created = await scheduler.tick()

    assert [job.kind for job in created] == [JobKind.SNAPSHOT, JobKind.RETENTION]
    assert all(job.created_by == "scheduler" for job in created)
    assert [name for name, _, _ in sent.tasks] == [
        TaskName.SNAPSHOT.value,
        TaskName.RETENTION.value,
    ]
    payload = SnapshotPayload.model_validate(sent.tasks[0][1])
    assert payload.job_id == created[0].id
    assert created[0].parameters["snapshotId"] == payload.snapshot_id
    assert {queue for _, _, queue in sent.tasks} == {"snapshots"}

    # another tick in the same minute (a second beat) does nothing
    assert await scheduler.tick() == []
    await harness.redis.flushdb()
    later = utcnow() + timedelta(hours=2)
    # both jobs are still queued: no second snapshot (or retention) of the tenant
    assert await scheduler.tick(later) == []
    retention = created[1]
    await harness.jobs.apply(
        StatusMessage(
            job_id=retention.id, tenant_id=retention.tenant_id, seq=1, status=JobStatus.COMPLETED
        )
    )
    await harness.redis.flushdb()
    assert [job.kind for job in await scheduler.tick(later)] == [JobKind.RETENTION]


async def test_the_next_snapshot_waits_for_the_interval(harness: Harness) -> None:
    sent = Sent()
    scheduler = Scheduler(harness.settings, harness.jobs, harness.store, harness.redis, sent)
    first = (await scheduler.tick())[0]
    await harness.jobs.apply(
        StatusMessage(job_id=first.id, tenant_id=first.tenant_id, seq=1, status=JobStatus.FAILED)
    )
    await harness.redis.flushdb()
    assert [j.kind for j in await scheduler.tick(utcnow() + timedelta(minutes=30))] == []
    await harness.redis.flushdb()
    later = await scheduler.tick(utcnow() + timedelta(minutes=61))
    assert [job.kind for job in later] == [JobKind.SNAPSHOT]  # retention still queued
