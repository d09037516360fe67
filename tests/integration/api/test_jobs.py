"""Jobs: listing, reading, canceling."""

from __future__ import annotations

import httpx
import pytest

from rewind_api.recorder import StatusRecorder
from rewind_api.state import AppState
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import Job, JobKind, JobStatus
from rewind_common.storage.tokens import Role
from rewind_common.tasks import Queue, TaskName
from tests.integration.api.support import TENANT, bearer, queued_tasks

JOBS = f"/v1/tenants/{TENANT}/jobs"


@pytest.fixture
def operator(tokens: dict[Role, str]) -> dict[str, str]:
    return bearer(tokens[Role.OPERATOR])


async def _status(state: AppState, job_id: str, seq: int, status: JobStatus) -> Job:
    job = await state.jobs.apply(
        StatusMessage(job_id=job_id, tenant_id=TENANT, seq=seq, status=status)
    )
    assert job is not None
    return job


async def test_jobs_are_listed_newest_first_and_filtered(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    for index, kind in enumerate([JobKind.SNAPSHOT, JobKind.VERIFY, JobKind.SNAPSHOT]):
        await state.jobs.insert(Job(id=f"job-{index}", tenant_id=TENANT, kind=kind))
    await _status(state, "job-2", 1, JobStatus.IN_PROGRESS)

    page = (await client.get(JOBS, params={"limit": 2}, headers=operator)).json()
    assert [j["id"] for j in page["items"]] == ["job-2", "job-1"]
    rest = (await client.get(JOBS, params={"cursor": page["next"]}, headers=operator)).json()
    assert [j["id"] for j in rest["items"]] == ["job-0"]

    snapshots = await client.get(JOBS, params={"kind": "snapshot"}, headers=operator)
    assert [j["id"] for j in snapshots.json()["items"]] == ["job-2", "job-0"]
    running = await client.get(JOBS, params={"status": "In progress"}, headers=operator)
    assert [j["id"] for j in running.json()["items"]] == ["job-2"]
    bad = await client.get(JOBS, params={"status": "Running"}, headers=operator)
    assert bad.status_code == 400
    assert "query.status" in bad.json()["error"]["message"]


async def test_a_job_reads_as_designed_and_unknown_ids_are_404(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    await state.jobs.insert(Job(id="job-1", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    job = (await client.get(f"{JOBS}/job-1", headers=operator)).json()
    assert job["status"] == "Queued"
    assert job["warnings"] == []
    assert job["error"] is None
    assert job["startedAt"] is None
    for path in (f"{JOBS}/nope", f"{JOBS}/nope/events", f"{JOBS}/nope/cancel"):
        method = "POST" if path.endswith("cancel") else "GET"
        response = await client.request(method, path, headers=operator)
        assert response.status_code == 404, path


async def test_canceling_a_queued_job_ends_it_through_the_recorder(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    created = await client.post(f"/v1/tenants/{TENANT}/snapshots", headers=operator)
    job_id = created.json()["id"]
    response = await client.post(f"{JOBS}/{job_id}/cancel", headers=operator)
    assert response.status_code == 202
    assert response.json()["cancelRequested"] is True
    assert response.headers["Location"] == f"{JOBS}/{job_id}"
    assert await state.control.cancel_requested(job_id)

    messages = await queued_tasks(state.redis, Queue.JOB_STATUS.value)
    assert [m.name for m in messages] == [TaskName.JOB_STATUS.value]
    recorder = StatusRecorder(state.jobs, state.events)
    job = await recorder.record(messages[0].args[0])
    assert job is not None
    assert job.status is JobStatus.CANCELED
    assert job.finished_at is not None

    again = await client.post(f"{JOBS}/{job_id}/cancel", headers=operator)
    assert again.status_code == 409
    assert "Canceled" in again.json()["error"]["message"]


async def test_a_job_still_recorded_queued_but_started_is_left_to_its_worker(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    """The recorder lags behind a worker that started (here: finished) the job: the
    cancel must not end it Canceled next to the work it completed."""
    await state.jobs.insert(Job(id="job-2", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    assert await state.control.claim_start("job-2")  # the worker's first step

    response = await client.post(f"{JOBS}/job-2/cancel", headers=operator)

    assert response.status_code == 202
    assert response.json()["status"] == "Queued"
    assert response.json()["cancelRequested"] is True
    assert await queued_tasks(state.redis, Queue.JOB_STATUS.value) == []
    # the worker's statuses arrive; it had passed its last look for a cancel
    await _status(state, "job-2", 1, JobStatus.IN_PROGRESS)
    assert (await _status(state, "job-2", 2, JobStatus.COMPLETED)).status is JobStatus.COMPLETED


async def test_canceling_a_running_job_leaves_the_ending_to_its_worker(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    await state.jobs.insert(Job(id="job-1", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    await _status(state, "job-1", 1, JobStatus.IN_PROGRESS)
    response = await client.post(f"{JOBS}/job-1/cancel", headers=operator)
    assert response.status_code == 202
    assert response.json()["status"] == "In progress"
    assert await state.control.cancel_requested("job-1")
    stored = await state.jobs.find("job-1")
    assert stored is not None
    assert stored.cancel_requested
    assert await queued_tasks(state.redis, Queue.JOB_STATUS.value) == []
