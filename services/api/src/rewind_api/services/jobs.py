"""Starting and canceling jobs.

A job is created ``Queued`` in MongoDB, then its task is sent by name to the worker's
queue. With an ``Idempotency-Key`` the key is claimed before the job exists, so two
concurrent retries of one request start one job. Only the status recorder changes a
job's status afterwards, with two exceptions made here because no worker can: a job
whose task could not be enqueued fails at once, and a job canceled while still queued
is canceled through the status queue (a worker that picks it up later sees it ended).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rewind_api.metrics import JOBS_CREATED
from rewind_api.services.ratelimit import JobRateLimiter
from rewind_api.state import AppState
from rewind_common.errors import Conflict, DependencyUnavailable
from rewind_common.ids import new_id
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import Job, JobError, JobKind, JobStatus, utcnow
from rewind_common.storage.idempotency import request_hash
from rewind_common.tasks import JobPayload, TaskName

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobRequest:
    """A request to start work, as a route received it."""

    tenant_id: str
    kind: JobKind
    task: TaskName
    created_by: str
    #: Builds the task payload once the job id is known.
    payload: Callable[[str], JobPayload]
    #: ``METHOD /path`` and the validated body: what an idempotency key is bound to.
    route: str
    body: Mapping[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    scope: dict[str, Any] | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Started:
    job: Job
    #: True when an earlier request with the same idempotency key created the job.
    replayed: bool = False


class JobService:
    def __init__(self, state: AppState) -> None:
        self._state = state
        self._limiter = JobRateLimiter(state.redis, state.settings.job_rate_limit_per_minute)

    async def start(self, request: JobRequest) -> Started:
        key = _scoped_key(request.tenant_id, request.idempotency_key)
        fingerprint = request_hash(request.route, request.body)
        if key is not None:
            earlier = await self._state.idempotency.find(key)
            if earlier is not None:
                if earlier.request_hash != fingerprint:
                    raise Conflict(
                        "this Idempotency-Key was already used for a different request; "
                        "use a new key for a new request"
                    )
                return Started(await self._replayed(earlier.job_id), replayed=True)
        await self._limiter.check(request.tenant_id)
        job_id = new_id()
        if key is not None:
            claim = await self._state.idempotency.claim(key, fingerprint, job_id, at=utcnow())
            if claim.job_id != job_id:
                return Started(await self._replayed(claim.job_id), replayed=True)
        now = utcnow()
        job = Job(
            id=job_id,
            # MongoDB keeps milliseconds: the job answered now reads the same later.
            created_at=now.replace(microsecond=now.microsecond // 1000 * 1000),
            tenant_id=request.tenant_id,
            kind=request.kind,
            created_by=request.created_by,
            parameters=request.parameters,
            scope=request.scope,
        )
        try:
            await self._state.jobs.insert(job)
        except DependencyUnavailable:
            if key is not None:
                with contextlib.suppress(DependencyUnavailable):
                    await self._state.idempotency.release(key, job_id)
            raise
        try:
            await self._state.send_task(request.task, request.payload(job_id).dump())
        except DependencyUnavailable as exc:
            await self._fail_unqueued(job, exc, key)
            raise
        JOBS_CREATED.labels(kind=request.kind.value).inc()
        return Started(job)

    async def _replayed(self, job_id: str) -> Job:
        job = await self._state.jobs.find(job_id)
        if job is None:
            # The first request claimed the key and has not stored its job yet.
            raise Conflict("a request with this Idempotency-Key is still being processed")
        return job

    async def _fail_unqueued(self, job: Job, exc: DependencyUnavailable, key: str | None) -> None:
        """The task never reached a queue: end the job now, visibly, and free the key so
        a retry can start the work."""
        log.warning("job %s could not be queued: %s", job.id, exc.message)
        try:
            seq = await self._state.control.next_seq(job.id)
        except DependencyUnavailable:
            seq = job.last_seq + 1
        message = StatusMessage(
            job_id=job.id,
            tenant_id=job.tenant_id,
            seq=seq,
            status=JobStatus.FAILED,
            error=JobError(code=exc.code, message=f"the job could not be queued: {exc.message}"),
        )
        with contextlib.suppress(DependencyUnavailable):
            await self._state.jobs.apply(message)
            if key is not None:
                await self._state.idempotency.release(key, job.id)

    async def cancel(self, tenant_id: str, job_id: str) -> Job:
        """Record a cancel request; the job ends ``Canceled`` when its worker sees it (or
        through the status queue at once when no worker has started it). A job that ends
        before its worker sees the request ends as it ended: its work is whole."""
        job = await self._state.jobs.get(tenant_id, job_id)
        if job.status.terminal:
            raise Conflict(f"job {job_id} already ended ({job.status.value})")
        job = await self._state.jobs.request_cancel(tenant_id, job_id)
        await self._state.control.request_cancel(job_id)
        # Recorded as Queued is not proof that no worker started it: the recorder may lag.
        if job.status is JobStatus.QUEUED and await self._state.control.cancel_unstarted(job_id):
            message = StatusMessage(
                job_id=job.id,
                tenant_id=job.tenant_id,
                seq=await self._state.control.next_seq(job.id),
                status=JobStatus.CANCELED,
                result={"canceledBeforeStart": True},
            )
            await self._state.send_task(
                TaskName.JOB_STATUS, message.model_dump(mode="json", by_alias=True)
            )
        return job


def _scoped_key(tenant_id: str, key: str | None) -> str | None:
    return f"{tenant_id}:{key}" if key else None
