"""The scheduler as a process: Celery beat ticks, a snapshotter creates the due jobs,
and the scheduled snapshot and retention complete (locally, the snapshotter consumes the
retention queue too)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from devstack.stack import Stack, StackConfig

from rewind_common.jobs.model import Job, JobKind
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo


@pytest.fixture
def stack(tmp_path: Path, redis_db_url: str, mongo_url: str) -> Iterator[Stack]:
    database = f"rewind_e2e_{uuid.uuid4().hex[:10]}"
    running = Stack(
        StackConfig(
            root=tmp_path,
            redis_url=redis_db_url,
            mongo_url=mongo_url,
            settings={
                "REWIND_MONGO_DATABASE": database,
                "REWIND_METRICS_PORT": "0",
                "REWIND_SNAPSHOT_INTERVAL_MINUTES": "60",
            },
        )
    )
    try:
        running.start_emulator()
        running.start_recorder()
        running.start_worker("snapshotter")
        running.start_scheduler()
        yield running
    finally:
        running.stop()

        async def drop() -> None:
            mongo = Mongo(mongo_url, database)
            await mongo.client.drop_database(database)
            await mongo.close()

        asyncio.run(drop())


async def _jobs(stack: Stack) -> list[Job]:
    mongo = Mongo(stack.mongo_url, stack.database)
    try:
        jobs, _ = await JobRepository(mongo).page(stack.config.tenant_id, limit=10)
        return jobs
    finally:
        await mongo.close()


def _ended(stack: Stack, kind: JobKind, deadline: float) -> Job | None:
    """The tenant's first job of ``kind`` once it has ended (or as it is at the deadline)."""
    job: Job | None = None
    while time.monotonic() < deadline:
        job = next((j for j in asyncio.run(_jobs(stack)) if j.kind is kind), None)
        if job is not None and job.status.terminal:
            break
        time.sleep(0.5)
    return job


@pytest.mark.slow
def test_the_scheduler_takes_a_snapshot_of_each_tenant(stack: Stack) -> None:
    httpx.post(
        f"{stack.emulator_url}/_emulator/generate", json={"users": 30, "seed": 3}, timeout=60
    ).raise_for_status()
    deadline = time.monotonic() + 120
    snapshot = _ended(stack, JobKind.SNAPSHOT, deadline)
    assert snapshot is not None, stack.processes["scheduler"].tail()
    assert snapshot.created_by == "scheduler"
    assert snapshot.status.value == "Completed", snapshot
    assert snapshot.result["snapshotId"] == snapshot.parameters["snapshotId"]
    retention = _ended(stack, JobKind.RETENTION, deadline)
    assert retention is not None, stack.processes["scheduler"].tail()
    assert retention.created_by == "scheduler"
    assert retention.status.value == "Completed", (retention, stack.processes["snapshotter"].tail())
