"""Jobs of a tenant: list, read, cancel, and follow as server-sent events."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from rewind_api.auth import Operator, Reader
from rewind_api.deps import Cursor, Limit, State, Tenant
from rewind_api.errors import error_body
from rewind_api.events import JobJson, Subscription, follow_job
from rewind_api.metrics import EVENT_STREAMS
from rewind_api.routes.accepted import job_location
from rewind_api.schemas import JobOut, Page
from rewind_api.services.jobs import JobService
from rewind_api.views import job_json, job_view
from rewind_common.errors import DependencyUnavailable
from rewind_common.jobs.model import JobKind, JobStatus

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/tenants/{tenant}/jobs", tags=["jobs"])

#: Event name of every job update on the stream; ``data`` is the job, ``id`` its ``seq``.
STATUS_EVENT = "status"
#: Sent instead when the stream must stop early (Redis lost); the client reconnects.
ERROR_EVENT = "error"
#: Milliseconds a browser's EventSource waits before reconnecting.
RECONNECT_MS = 2000


@router.get("", summary="Jobs, newest first")
async def list_jobs(
    principal: Reader,
    tenant: Tenant,
    state: State,
    kind: JobKind | None = None,
    status: JobStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[JobOut]:
    jobs, following = await state.jobs.page(
        tenant.tenant_id, kind=kind, status=status, cursor=cursor, limit=limit
    )
    return Page(items=[job_view(job) for job in jobs], next=following)


@router.get("/{job_id}", summary="One job")
async def get_job(principal: Reader, tenant: Tenant, state: State, job_id: str) -> JobOut:
    return job_view(await state.jobs.get(tenant.tenant_id, job_id))


@router.post(
    "/{job_id}/cancel",
    status_code=202,
    summary="Ask the job to stop",
    responses={409: {"description": "The job already ended"}},
)
async def cancel_job(
    principal: Operator, tenant: Tenant, state: State, job_id: str, response: Response
) -> JobOut:
    job = await JobService(state).cancel(tenant.tenant_id, job_id)
    response.headers["Location"] = job_location(job.tenant_id, job.id)
    return job_view(job)


@dataclass
class JobStream:
    current: JobJson
    subscription: Subscription
    state: State
    tenant_id: str
    job_id: str

    async def reload(self) -> JobJson:
        return job_json(await self.state.jobs.get(self.tenant_id, self.job_id))


async def open_job_stream(tenant: Tenant, state: State, job_id: str) -> AsyncIterator[JobStream]:
    """Subscribe, then read the job: an update published in between is not missed. Runs
    before the stream starts, so an unknown job is a plain 404."""
    async with state.events.subscribe(job_id) as subscription:
        job = await state.jobs.get(tenant.tenant_id, job_id)
        EVENT_STREAMS.inc()
        try:
            yield JobStream(job_json(job), subscription, state, tenant.tenant_id, job_id)
        finally:
            EVENT_STREAMS.dec()


@router.get(
    "/{job_id}/events",
    response_class=EventSourceResponse,
    summary="The job now, then every update, until it ends (server-sent events)",
)
async def job_events(
    principal: Reader, stream: Annotated[JobStream, Depends(open_job_stream)]
) -> AsyncIterator[ServerSentEvent]:
    try:
        async for job in follow_job(stream.current, stream.subscription, stream.reload):
            yield ServerSentEvent(
                event=STATUS_EVENT, data=job, id=str(job.get("seq", 0)), retry=RECONNECT_MS
            )
    except DependencyUnavailable as exc:
        log.warning("event stream of job %s stopped: %s", stream.job_id, exc.message)
        yield ServerSentEvent(event=ERROR_EVENT, data=error_body(exc.code, exc.message))
