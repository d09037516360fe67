"""Status messages: what workers publish on the ``job-status`` queue.

A message carries the job's new status (or the same status with new progress), a
per-job sequence number, and what changed. The status recorder applies messages in
sequence order and ignores any it has already applied, so redelivery is harmless.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from rewind_common.jobs.model import (
    JobError,
    JobStatus,
    JobWarning,
    Progress,
    _CamelModel,
    utcnow,
)


class StatusMessage(_CamelModel):
    job_id: str
    tenant_id: str
    seq: int = Field(ge=1)
    status: JobStatus
    at: datetime = Field(default_factory=utcnow)
    progress: Progress | None = None
    #: Warnings added by this message (appended, never replaced).
    warnings: list[JobWarning] = Field(default_factory=list)
    counters: dict[str, int] | None = None
    error: JobError | None = None
    #: Merged into the job's ``result``.
    result: dict[str, Any] | None = None
