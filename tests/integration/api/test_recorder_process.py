"""The status recorder as a real process: messages published while it is down wait in
Redis and are all applied, in order, when it is back; listeners see every one."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from devstack.processes import ManagedProcess

from rewind_api.state import AppState
from rewind_common.celery_config import create_celery
from rewind_common.jobs.control import JobControl
from rewind_common.jobs.model import JobStatus, JobWarning, Progress
from rewind_common.jobs.reporter import StatusReporter, celery_publisher
from rewind_common.jobs.runner import JobRunner, Outcome, StepContext
from rewind_common.settings import Settings
from rewind_common.storage.tokens import Role
from rewind_common.tasks import Queue
from tests.integration.api.conftest import make_settings
from tests.integration.api.support import TENANT, bearer, eventually, parse_sse
from tests.integration.api.test_events import wait_for_listener

READY_MARK = "status recorder ready"


class Recorder:
    """``rewind-recorder`` started with REWIND_* settings for the test's servers."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.starts = 0
        self.log_path = log_path
        env = {
            "REWIND_MONGO_URL": settings.mongo_url.get_secret_value(),
            "REWIND_MONGO_DATABASE": settings.mongo_database,
            "REWIND_REDIS_URL": settings.redis_url.get_secret_value(),
            "REWIND_LOG_FORMAT": "text",
        }
        self.process = ManagedProcess(
            "recorder",
            [str(Path(sys.executable).with_name("rewind-recorder"))],
            log_path=log_path,
            ready=self._ready,
            env=env,
            ready_timeout=30,
        )

    def _ready(self) -> bool:
        return self.log_path.read_text(errors="replace").count(READY_MARK) >= self.starts

    def start(self) -> None:
        self.starts += 1
        self.process.start()

    def stop(self) -> None:
        self.process.stop()


@pytest.fixture
def settings(
    mongo_url: str, mongo_database_name: str, restartable_redis: tuple[ManagedProcess, str]
) -> Settings:
    # A Redis of its own: the recorder consumes every status message on it.
    return make_settings(mongo_url, mongo_database_name, restartable_redis[1])


@pytest.fixture
def recorder(settings: Settings, tmp_path: Path) -> Iterator[Recorder]:
    process = Recorder(settings, tmp_path / "recorder.log")
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def worker(settings: Settings) -> AsyncIterator[tuple[JobControl, Any]]:
    """What a worker uses to report: its JobControl and its Celery status publisher."""
    redis = aioredis.Redis.from_url(settings.redis_url.get_secret_value())
    app = create_celery("test-worker", settings)
    try:
        yield JobControl(redis), celery_publisher(app)
    finally:
        app.close()
        await redis.aclose()


async def _wait_for_status(state: AppState, job_id: str, status: JobStatus) -> None:
    async def reached() -> bool:
        job = await state.jobs.find(job_id)
        return job is not None and job.status is status

    await eventually(reached)


async def test_statuses_sent_while_the_recorder_is_down_all_arrive_in_order(
    client: httpx.AsyncClient,
    state: AppState,
    tokens: dict[Role, str],
    recorder: Recorder,
    worker: tuple[JobControl, Any],
) -> None:
    created = await client.post(
        f"/v1/tenants/{TENANT}/snapshots", headers=bearer(tokens[Role.OPERATOR])
    )
    job = created.json()
    control, publish = worker
    reporter = StatusReporter(job["id"], TENANT, control, publish)
    await reporter.send(JobStatus.LOADING_DATA)
    await _wait_for_status(state, job["id"], JobStatus.LOADING_DATA)

    recorder.stop()
    listening = asyncio.create_task(
        client.get(
            f"/v1/tenants/{TENANT}/jobs/{job['id']}/events", headers=bearer(tokens[Role.READER])
        )
    )
    await wait_for_listener(state.redis, job["id"])
    await reporter.send(JobStatus.IN_PROGRESS, progress=Progress(done=0, total=3))
    for done in (1, 2, 3):
        await reporter.send(progress=Progress(done=done, total=3))
    await reporter.send(warnings=[JobWarning(type="user", object_id="u1", reason="synced")])
    await reporter.send(
        JobStatus.COMPLETED_WITH_WARNINGS,
        counters={"objects": 3},
        result={"snapshotId": job["snapshotId"]},
    )
    assert await state.redis.llen(Queue.JOB_STATUS.value) == 6  # waiting, none lost
    assert (await state.jobs.get(TENANT, job["id"])).status is JobStatus.LOADING_DATA

    recorder.start()
    response = await asyncio.wait_for(listening, 30)
    events = [event.data for event in parse_sse(response.text)]
    assert [(e["status"], e["progress"]["done"], len(e["warnings"])) for e in events] == [
        ("Loading data", 0, 0),
        ("In progress", 0, 0),
        ("In progress", 1, 0),
        ("In progress", 2, 0),
        ("In progress", 3, 0),
        ("In progress", 3, 1),
        ("Completed with warnings", 3, 1),
    ]
    assert [e["seq"] for e in events] == list(range(1, 8))
    final = await state.jobs.get(TENANT, job["id"])
    assert final.status is JobStatus.COMPLETED_WITH_WARNINGS
    assert final.last_seq == 7
    assert final.counters == {"objects": 3}
    assert final.result == {"snapshotId": job["snapshotId"]}
    assert await state.redis.llen(Queue.JOB_STATUS.value) == 0


class UntilCanceled:
    """A worker's handler that works in small units until it is canceled."""

    def __init__(self) -> None:
        self.units = 0

    async def step(self, context: StepContext) -> Outcome | None:
        await context.status(JobStatus.IN_PROGRESS)
        while not context.out_of_time():
            await context.raise_if_canceled()
            self.units += 1
            await context.progress(self.units, 1000)
            await asyncio.sleep(0.05)
        return None

    async def canceled(self, context: StepContext) -> Mapping[str, Any]:
        return {"unitsDone": self.units}


async def test_cancel_ends_a_running_job_within_seconds(
    client: httpx.AsyncClient,
    state: AppState,
    tokens: dict[Role, str],
    recorder: Recorder,
    worker: tuple[JobControl, Any],
) -> None:
    operator = bearer(tokens[Role.OPERATOR])
    job = (await client.post(f"/v1/tenants/{TENANT}/snapshots", headers=operator)).json()
    control, publish = worker
    runner = JobRunner(state.jobs, control, publish, step_seconds=30)
    running = asyncio.create_task(runner.run_step(job["id"], {}, UntilCanceled()))
    await _wait_for_status(state, job["id"], JobStatus.IN_PROGRESS)

    loop = asyncio.get_running_loop()
    asked = loop.time()
    response = await client.post(f"/v1/tenants/{TENANT}/jobs/{job['id']}/cancel", headers=operator)
    assert response.status_code == 202
    await _wait_for_status(state, job["id"], JobStatus.CANCELED)
    assert loop.time() - asked < 5
    await asyncio.wait_for(running, 5)
    final = (await client.get(f"/v1/tenants/{TENANT}/jobs/{job['id']}", headers=operator)).json()
    assert final["status"] == "Canceled"
    assert final["result"]["unitsDone"] >= 1


async def test_a_queued_job_canceled_through_the_api_ends_canceled(
    client: httpx.AsyncClient, state: AppState, tokens: dict[Role, str], recorder: Recorder
) -> None:
    operator = bearer(tokens[Role.OPERATOR])
    job = (await client.post(f"/v1/tenants/{TENANT}/snapshots", headers=operator)).json()
    await client.post(f"/v1/tenants/{TENANT}/jobs/{job['id']}/cancel", headers=operator)
    await _wait_for_status(state, job["id"], JobStatus.CANCELED)
