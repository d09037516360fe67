"""The answer of every POST that starts work: 202, the job, and where to follow it.

An idempotent replay answers exactly like the first request (202, same job, same
``Location``), plus ``Idempotent-Replayed: true``, so a client's retry logic needs no
special case.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response

from rewind_api.schemas import JobOut
from rewind_api.services.jobs import Started
from rewind_api.views import job_view

REPLAYED_HEADER = "Idempotent-Replayed"

ACCEPTED_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "The job was created (or, for a replayed Idempotency-Key, found)",
        "headers": {
            "Location": {
                "description": "The job: /v1/tenants/{tenant}/jobs/{jobId}",
                "schema": {"type": "string"},
            },
            REPLAYED_HEADER: {
                "description": "`true` when an earlier request with the same key created it",
                "schema": {"type": "string"},
            },
        },
    },
    409: {"description": "The Idempotency-Key was used for a different request"},
    429: {"description": "Too many new jobs for this tenant; see Retry-After"},
}


def job_location(tenant_id: str, job_id: str) -> str:
    return f"/v1/tenants/{tenant_id}/jobs/{job_id}"


def accepted(started: Started, response: Response) -> JobOut:
    response.status_code = 202
    response.headers["Location"] = job_location(started.job.tenant_id, started.job.id)
    if started.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return job_view(started.job)
