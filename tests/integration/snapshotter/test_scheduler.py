"""The scheduler's tick against real MongoDB and Redis: jobs created as the API creates
them, when due, never two snapshots of a tenant at once; the newest snapshot verified
every interval."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import JobKind, JobStatus, utcnow
from rewind_common.tasks import SnapshotPayload, TaskName, VerifyPayload
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
    # retention has a queue of its own, taken only by the worker allowed to delete
    assert [queue for _, _, queue in sent.tasks] == ["snapshots", "retention"]

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


async def test_the_newest_snapshot_is_verified_every_interval(harness: Harness) -> None:
    sent = Sent()
    scheduler = Scheduler(harness.settings, harness.jobs, harness.store, harness.redis, sent)
    await harness.emulator.generate(users=3)
    await harness.snapshot()
    _, newest = await harness.snapshot()
    assert newest is not None

    created = await scheduler.tick()

    verifies = [job for job in created if job.kind is JobKind.VERIFY]
    assert [job.parameters["snapshotId"] for job in verifies] == [newest.id]
    assert verifies[0].created_by == "scheduler"
    name, payload, queue = sent.tasks[-1]
    assert (name, queue) == (TaskName.VERIFY.value, "snapshots")
    assert VerifyPayload.model_validate(payload).snapshot_id == newest.id

    async def kinds_at(when: datetime) -> list[JobKind]:
        await harness.redis.flushdb()
        return [job.kind for job in await scheduler.tick(when)]

    # not again while it runs, nor until a day has passed since it was asked for
    assert JobKind.VERIFY not in await kinds_at(utcnow() + timedelta(days=2))
    await harness.jobs.apply(
        StatusMessage(
            job_id=verifies[0].id,
            tenant_id=verifies[0].tenant_id,
            seq=1,
            status=JobStatus.COMPLETED,
        )
    )
    assert JobKind.VERIFY not in await kinds_at(utcnow() + timedelta(hours=23))
    assert JobKind.VERIFY in await kinds_at(utcnow() + timedelta(hours=25))


async def test_scheduled_verification_can_be_turned_off(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(update={"verify_interval_minutes": 0})
    await harness.emulator.generate(users=3)
    await harness.snapshot()
    scheduler = Scheduler(harness.settings, harness.jobs, harness.store, harness.redis, Sent())

    assert JobKind.VERIFY not in [job.kind for job in await scheduler.tick()]
