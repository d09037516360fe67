"""Server-sent events of a job: the current state first, then every update in order,
ending after a terminal status."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

import rewind_api.routes.jobs as jobs_routes
from rewind_api.events import channel, follow_job
from rewind_api.recorder import StatusRecorder
from rewind_api.state import AppState
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import Job, JobKind, JobStatus, JobWarning, Progress
from rewind_common.storage.tokens import Role
from tests.integration.api.support import TENANT, Event, bearer, eventually, parse_sse

JOBS = f"/v1/tenants/{TENANT}/jobs"


async def wait_for_listener(redis: aioredis.Redis, job_id: str) -> None:
    """Until an API process subscribed to the job's channel."""

    async def listeners() -> int:
        counts = dict(await redis.pubsub_numsub(channel(job_id)))
        return int(counts.get(channel(job_id).encode(), 0))

    await eventually(listeners)


def _message(job_id: str, seq: int, status: JobStatus, **fields: Any) -> dict[str, Any]:
    message = StatusMessage(job_id=job_id, tenant_id=TENANT, seq=seq, status=status, **fields)
    return message.model_dump(mode="json", by_alias=True)


async def _stream(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[Event]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse_sse(response.text)


async def test_updates_stream_in_order_and_the_stream_ends_after_a_terminal_status(
    client: httpx.AsyncClient, state: AppState, tokens: dict[Role, str]
) -> None:
    await state.jobs.insert(Job(id="job-1", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    listening = asyncio.create_task(
        _stream(client, f"{JOBS}/job-1/events", bearer(tokens[Role.READER]))
    )
    await wait_for_listener(state.redis, "job-1")
    recorder = StatusRecorder(state.jobs, state.events)
    messages = [
        _message("job-1", 1, JobStatus.LOADING_DATA),
        _message("job-1", 2, JobStatus.IN_PROGRESS, progress=Progress(done=1, total=2)),
        _message("job-1", 2, JobStatus.IN_PROGRESS, progress=Progress(done=1, total=2)),  # again
        _message("job-1", 4, JobStatus.IN_PROGRESS, progress=Progress(done=2, total=2)),
        _message("job-1", 3, JobStatus.IN_PROGRESS, progress=Progress(done=1, total=2)),  # late
        _message(
            "job-1",
            5,
            JobStatus.COMPLETED_WITH_WARNINGS,
            warnings=[JobWarning(type="user", object_id="u1", reason="synced")],
            result={"snapshotId": "s1"},
        ),
    ]
    for message in messages:
        await recorder.record(message)
    events = await asyncio.wait_for(listening, 10)

    assert {e.event for e in events} == {"status"}
    assert [(e.data["status"], e.data["progress"]["done"]) for e in events] == [
        ("Queued", 0),
        ("Loading data", 0),
        ("In progress", 1),
        ("In progress", 2),
        ("Completed with warnings", 2),
    ]
    assert [e.id for e in events] == ["0", "1", "2", "4", "5"]
    final = events[-1].data
    assert final["warnings"] == [{"type": "user", "objectId": "u1", "reason": "synced"}]
    assert final["snapshotId"] == "s1"
    assert final == (await client.get(f"{JOBS}/job-1", headers=bearer(tokens[Role.READER]))).json()


async def test_a_finished_job_streams_once_and_ends(
    client: httpx.AsyncClient, state: AppState, tokens: dict[Role, str]
) -> None:
    await state.jobs.insert(Job(id="job-1", tenant_id=TENANT, kind=JobKind.VERIFY))
    await state.jobs.apply(
        StatusMessage(job_id="job-1", tenant_id=TENANT, seq=1, status=JobStatus.FAILED)
    )
    events = await _stream(client, f"{JOBS}/job-1/events", bearer(tokens[Role.READER]))
    assert [e.data["status"] for e in events] == ["Failed"]


async def test_the_stream_recovers_an_update_that_was_never_published(
    client: httpx.AsyncClient,
    state: AppState,
    tokens: dict[Role, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jobs_routes, "follow_job", functools.partial(follow_job, poll_seconds=0.2))
    await state.jobs.insert(Job(id="job-1", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    listening = asyncio.create_task(
        _stream(client, f"{JOBS}/job-1/events", bearer(tokens[Role.READER]))
    )
    await wait_for_listener(state.redis, "job-1")
    # applied, but never announced (as when Redis drops a subscriber's connection)
    await state.jobs.apply(
        StatusMessage(job_id="job-1", tenant_id=TENANT, seq=1, status=JobStatus.COMPLETED)
    )
    events = await asyncio.wait_for(listening, 10)
    assert [e.data["status"] for e in events] == ["Queued", "Completed"]
