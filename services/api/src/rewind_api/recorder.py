"""The status recorder (``rewind-recorder``): applies workers' status messages to the
``jobs`` collection and announces each result to live listeners.

It is a Celery worker consuming only the ``job-status`` queue with the solo pool, one
message at a time, acknowledged after it is applied: messages are applied in the order
workers sent them, and while the recorder is down they wait in Redis. Applying is
idempotent and ordered by each job's sequence numbers (``JobRepository.apply``), so a
redelivered or late message changes nothing. After applying, the job as the API shows it
is published on ``rewind:job-events:{jobId}`` (``rewind_api.events``).

Run one recorder per deployment: one consumer is what keeps messages in order.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from typing import Any

import redis
import redis.asyncio as aioredis
from celery import Celery
from celery.exceptions import Reject
from celery.signals import worker_ready, worker_shutdown, worker_shutting_down
from pydantic import ValidationError

from rewind_api.events import JobEvents
from rewind_api.views import job_json
from rewind_common.celery_config import create_celery
from rewind_common.errors import DependencyUnavailable
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import Job
from rewind_common.logging import configure_logging
from rewind_common.metrics import JOB_DURATION, JOBS, QUEUE_DEPTH, serve_metrics
from rewind_common.redis_client import async_redis, sync_redis
from rewind_common.settings import Settings, get_settings
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo
from rewind_common.tasks import Queue, TaskName

log = logging.getLogger(__name__)

#: Backoff while MongoDB is away; the message is held, so order is kept.
RETRY_INITIAL_SECONDS = 0.5
RETRY_MAX_SECONDS = 5.0


class StatusRecorder:
    """Applies one status message and announces the job's new state."""

    def __init__(self, jobs: JobRepository, events: JobEvents) -> None:
        self._jobs = jobs
        self._events = events

    async def record(self, payload: Mapping[str, Any]) -> Job | None:
        """Apply ``payload`` (a ``StatusMessage``); returns the job, or None if unknown.

        Raises ``pydantic.ValidationError`` for a malformed message and
        ``DependencyUnavailable`` when MongoDB cannot be reached (nothing was applied).
        """
        message = StatusMessage.model_validate(payload)
        applied = await self._jobs.apply_message(message)
        if applied is None:
            log.warning("status message for unknown job %s dropped", message.job_id)
            return None
        job = applied.job
        if applied.status_changed and job.status.terminal:
            count_finished(job)
        try:
            await self._events.publish(job_json(job))
        except DependencyUnavailable as exc:
            # Listeners re-read the job when their stream is idle; nothing is lost.
            log.warning("could not announce job %s: %s", job.id, exc.message)
        return job


def count_finished(job: Job) -> None:
    """Count a job that just reached its final status (the recorder sees each once)."""
    JOBS.labels(job.kind.value, job.status.value).inc()
    if job.finished_at is not None:
        seconds = (job.finished_at - job.created_at).total_seconds()
        JOB_DURATION.labels(job.kind.value).observe(max(seconds, 0.0))


class QueueDepthSampler:
    """Samples how many messages wait in each queue, for ``rewind_queue_depth``."""

    def __init__(self, redis_url: str, interval_seconds: float = 15.0) -> None:
        self._redis_url = redis_url
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="queue-depth", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def sample(self, client: redis.Redis) -> None:
        for queue in Queue:
            QUEUE_DEPTH.labels(queue.value).set(int(client.llen(queue.value)))

    def _run(self) -> None:
        client = sync_redis(self._redis_url, socket_timeout=5, retries=1)
        try:
            while not self._stop.is_set():
                try:
                    self.sample(client)
                except redis.RedisError as exc:
                    log.debug("queue depth not sampled: %s", exc)
                self._stop.wait(self._interval)
        finally:
            client.close()


class _Runtime:
    """One event loop and one connection to each server for the life of the worker; the
    solo pool runs every task in this thread, one at a time."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._mongo: Mongo | None = None
        self._redis: aioredis.Redis | None = None
        self._recorder: StatusRecorder | None = None
        self.stopping = False

    def _open(self) -> tuple[asyncio.AbstractEventLoop, StatusRecorder]:
        if self._loop is None or self._recorder is None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._mongo = Mongo.of(self._settings)
            self._redis = async_redis(self._settings.redis_url.get_secret_value(), socket_timeout=5)
            self._recorder = StatusRecorder(JobRepository(self._mongo), JobEvents(self._redis))
        return self._loop, self._recorder

    def record(self, payload: Mapping[str, Any]) -> None:
        loop, recorder = self._open()
        loop.run_until_complete(self._record_until_applied(recorder, payload))

    async def _record_until_applied(
        self, recorder: StatusRecorder, payload: Mapping[str, Any]
    ) -> None:
        delay = RETRY_INITIAL_SECONDS
        while True:
            try:
                await recorder.record(payload)
                return
            except DependencyUnavailable as exc:
                if self.stopping:
                    raise
                log.warning("cannot apply a status message yet (%s); retrying", exc.message)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    def close(self) -> None:
        if self._loop is None:
            return
        if self._redis is not None:
            self._loop.run_until_complete(self._redis.aclose())
        if self._mongo is not None:
            self._loop.run_until_complete(self._mongo.close())
        self._loop.close()
        self._loop = None
        self._recorder = None


def create_recorder_app(settings: Settings) -> Celery:
    """The recorder's Celery app, with its one task registered."""
    app = create_celery(
        "rewind-recorder",
        settings,
        task_default_queue=Queue.JOB_STATUS.value,
        worker_concurrency=1,
        worker_pool="solo",
    )
    runtime = _Runtime(settings)

    @app.task(name=TaskName.JOB_STATUS.value)
    def record(payload: dict[str, Any]) -> None:
        try:
            runtime.record(payload)
        except ValidationError as exc:
            # Retrying a malformed message cannot help; drop it, loudly.
            log.error("malformed status message dropped: %s", exc)
        except DependencyUnavailable as exc:
            # Shutting down while MongoDB is away: hand the message back to the queue.
            raise Reject(exc.message, requeue=True) from exc

    def _stopping(**_: Any) -> None:
        runtime.stopping = True

    def _stopped(**_: Any) -> None:
        sampler.stop()
        runtime.close()

    sampler = QueueDepthSampler(settings.redis_url.get_secret_value())

    def _ready(**_: Any) -> None:
        sampler.start()
        log.info("status recorder ready, consuming %s", Queue.JOB_STATUS.value)

    worker_shutting_down.connect(_stopping, weak=False)
    worker_shutdown.connect(_stopped, weak=False)
    worker_ready.connect(_ready, weak=False)
    return app


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_recorder_app(settings)
    serve_metrics(settings.metrics_port)
    app.worker_main(
        [
            "worker",
            "--pool=solo",
            "--concurrency=1",
            f"--queues={Queue.JOB_STATUS.value}",
            "--hostname=recorder@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--loglevel={settings.log_level}",
        ]
    )


if __name__ == "__main__":
    main()
