"""The recorder counts each finished job once and samples the queues' depth."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from prometheus_client import Counter, Gauge

from rewind_api.events import JobEvents
from rewind_api.recorder import QueueDepthSampler, StatusRecorder
from rewind_api.state import AppState
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import Job, JobKind, JobStatus
from rewind_common.metrics import JOB_DURATION, JOBS, QUEUE_DEPTH
from rewind_common.storage.jobs import JobRepository
from rewind_common.tasks import Queue
from tests.integration.api.support import TENANT


def _value(metric: Counter | Gauge, **labels: str) -> float:
    return float(metric.labels(**labels)._value.get())


def _durations_observed(kind: str) -> float:
    """How many durations the histogram holds for ``kind`` (a job created and finished
    within the same millisecond lasts 0 s, so its sum alone may not move)."""
    for metric in JOB_DURATION.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels == {"kind": kind}:
                return sample.value
    return 0.0


async def test_a_finished_job_is_counted_once_whatever_the_redeliveries(
    state: AppState, redis_db_url: str
) -> None:
    jobs = JobRepository(state.mongo)
    redis_client = aioredis.Redis.from_url(redis_db_url)
    recorder = StatusRecorder(jobs, JobEvents(redis_client))
    await jobs.insert(Job(id="jm1", tenant_id=TENANT, kind=JobKind.VERIFY))
    before = _value(JOBS, kind="verify", status="Completed")
    durations = _durations_observed("verify")
    messages = [
        StatusMessage(job_id="jm1", tenant_id=TENANT, seq=1, status=JobStatus.IN_PROGRESS),
        StatusMessage(job_id="jm1", tenant_id=TENANT, seq=2, status=JobStatus.COMPLETED),
    ]
    try:
        for message in [*messages, messages[1]]:
            await recorder.record(message.model_dump(mode="json", by_alias=True))
    finally:
        await redis_client.aclose()
    assert _value(JOBS, kind="verify", status="Completed") == before + 1
    assert _durations_observed("verify") == durations + 1


def test_queue_depth_is_sampled_from_redis(redis_db_url: str) -> None:
    client = redis.Redis.from_url(redis_db_url)
    try:
        client.rpush(Queue.DIFFS.value, "a", "b", "c")
        QueueDepthSampler(redis_db_url).sample(client)
    finally:
        client.close()
    assert _value(QUEUE_DEPTH, queue="diffs") == 3
    assert _value(QUEUE_DEPTH, queue="recoveries") == 0
