"""Server-sent events through a real HTTP server: updates arrive while the job runs, and
a client that goes away is unsubscribed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis

from rewind_api.events import JobEvents, channel
from rewind_api.recorder import StatusRecorder
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import Job, JobKind, JobStatus, Progress
from rewind_common.settings import Settings
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.tokens import Role, TokenRepository
from tests.integration.api.support import TENANT, bearer, eventually, parse_sse
from tests.integration.api.test_events import wait_for_listener


@pytest.fixture
async def servers(settings: Settings) -> AsyncIterator[tuple[Mongo, aioredis.Redis]]:
    mongo = Mongo(settings.mongo_url.get_secret_value(), settings.mongo_database)
    redis = aioredis.Redis.from_url(settings.redis_url.get_secret_value())
    try:
        yield mongo, redis
    finally:
        await redis.aclose()
        await mongo.close()


async def _next_event(lines: AsyncIterator[str]) -> dict[str, object]:
    block: list[str] = []
    async for line in lines:
        if line == "" and any(part.startswith("data:") for part in block):
            events = parse_sse("\n".join(block) + "\n\n")
            return dict(events[0].data)
        block.append(line)
    raise AssertionError("the stream ended early")


async def test_updates_arrive_live_and_a_departed_client_is_unsubscribed(
    api_url: str, servers: tuple[Mongo, aioredis.Redis]
) -> None:
    mongo, redis = servers
    secret, _ = await TokenRepository(mongo).create("viewer", Role.READER)
    jobs = JobRepository(mongo)
    await jobs.insert(Job(id="job-1", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    recorder = StatusRecorder(jobs, JobEvents(redis))
    path = f"/v1/tenants/{TENANT}/jobs/job-1/events"

    async with httpx.AsyncClient(base_url=api_url, timeout=10) as http:
        async with http.stream("GET", path, headers=bearer(secret)) as response:
            assert response.status_code == 200
            lines = response.aiter_lines()
            assert (await _next_event(lines))["status"] == "Queued"
            await wait_for_listener(redis, "job-1")
            message = StatusMessage(
                job_id="job-1",
                tenant_id=TENANT,
                seq=1,
                status=JobStatus.IN_PROGRESS,
                progress=Progress(done=1, total=10),
            )
            await recorder.record(message.model_dump(mode="json", by_alias=True))
            update = await _next_event(lines)
            assert update["status"] == "In progress"
            assert update["progress"] == {"done": 1, "total": 10}

        async def unsubscribed() -> bool:
            counts = dict(await redis.pubsub_numsub(channel("job-1")))
            return counts.get(channel("job-1").encode(), 0) == 0

        await eventually(unsubscribed, seconds=10)
        metrics = await http.get("/metrics")
        assert "rewind_api_event_streams 0.0" in metrics.text
