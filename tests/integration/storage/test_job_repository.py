"""The status recorder's rules, applied to a real MongoDB: order, idempotency, finality."""

from __future__ import annotations

import pytest

from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import Job, JobKind, JobStatus, JobWarning, Progress
from rewind_common.storage import jobs as jobs_module
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo

TENANT = "11111111-1111-1111-1111-111111111111"


def _message(seq: int, status: JobStatus, **kw: object) -> StatusMessage:
    return StatusMessage(jobId="j1", tenantId=TENANT, seq=seq, status=status, **kw)


async def test_messages_apply_in_sequence_and_terminal_status_is_final(mongo: Mongo) -> None:
    jobs = JobRepository(mongo)
    await jobs.insert(Job(id="j1", tenant_id=TENANT, kind=JobKind.SNAPSHOT))

    await jobs.apply(_message(1, JobStatus.LOADING_DATA))
    await jobs.apply(_message(3, JobStatus.IN_PROGRESS, progress=Progress(done=5, total=10)))
    late = await jobs.apply(_message(2, JobStatus.LOADING_DATA))
    assert late is not None
    assert late.status is JobStatus.IN_PROGRESS
    assert late.progress.done == 5
    assert late.started_at is not None

    done = await jobs.apply(_message(4, JobStatus.COMPLETED, result={"snapshotId": "s1"}))
    assert done is not None
    assert done.status is JobStatus.COMPLETED
    assert done.finished_at is not None
    assert done.result == {"snapshotId": "s1"}

    after = await jobs.apply(_message(5, JobStatus.FAILED))
    assert after is not None
    assert after.status is JobStatus.COMPLETED


async def test_warnings_survive_out_of_order_and_duplicate_delivery(mongo: Mongo) -> None:
    jobs = JobRepository(mongo)
    await jobs.insert(Job(id="j1", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    warning = JobWarning(type="conditionalAccessPolicy", reason="403 Authorization_RequestDenied")
    await jobs.apply(_message(2, JobStatus.IN_PROGRESS))
    await jobs.apply(_message(1, JobStatus.LOADING_DATA, warnings=[warning]))
    job = await jobs.apply(_message(1, JobStatus.LOADING_DATA, warnings=[warning]))
    assert job is not None
    assert job.warnings == [warning]
    assert job.status is JobStatus.IN_PROGRESS


async def test_warnings_are_capped_and_the_rest_counted(
    mongo: Mongo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_module, "MAX_WARNINGS", 3)
    jobs = JobRepository(mongo)
    await jobs.insert(Job(id="j1", tenant_id=TENANT, kind=JobKind.RECOVERY))
    warnings = [JobWarning(type="user", object_id=f"u{i}", reason="failed") for i in range(5)]
    job = await jobs.apply(_message(1, JobStatus.IN_PROGRESS, warnings=warnings))
    assert job is not None
    assert len(job.warnings) == 3
    assert job.counters["warningsDropped"] == 2


async def test_listing_is_newest_first_with_a_cursor(mongo: Mongo) -> None:
    jobs = JobRepository(mongo)
    for index in range(5):
        await jobs.insert(Job(id=f"j{index}", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    page, cursor = await jobs.page(TENANT, limit=3)
    assert [j.id for j in page] == ["j4", "j3", "j2"]
    assert cursor is not None
    rest, end = await jobs.page(TENANT, limit=3, cursor=cursor)
    assert [j.id for j in rest] == ["j1", "j0"]
    assert end is None
