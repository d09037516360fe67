"""The job model and its state machine.

Statuses are exactly Microsoft's recovery-job strings. A job moves forward through
``Queued → Loading data → In progress`` and ends in one terminal status. A worker that
resumes a redelivered job may report ``Loading data`` again after ``In progress``; a
terminal status is final and later messages are ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from rewind_common.errors import InvalidTransition


class JobKind(StrEnum):
    SNAPSHOT = "snapshot"
    DIFFERENCE_REPORT = "differenceReport"
    RECOVERY = "recovery"
    VERIFY = "verify"
    RETENTION = "retention"


class JobStatus(StrEnum):
    QUEUED = "Queued"
    LOADING_DATA = "Loading data"
    IN_PROGRESS = "In progress"
    COMPLETED = "Completed"
    COMPLETED_WITH_WARNINGS = "Completed with warnings"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        JobStatus.COMPLETED,
        JobStatus.COMPLETED_WITH_WARNINGS,
        JobStatus.FAILED,
        JobStatus.CANCELED,
    }
)
_RUNNING = frozenset({JobStatus.LOADING_DATA, JobStatus.IN_PROGRESS})


def can_transition(current: JobStatus, new: JobStatus) -> bool:
    """Whether a job in ``current`` may move to ``new``.

    Reporting the same non-terminal status again is allowed (progress updates).
    """
    if current.terminal:
        return False
    if new is JobStatus.QUEUED:
        return current is JobStatus.QUEUED
    return new in _RUNNING or new.terminal


def check_transition(current: JobStatus, new: JobStatus) -> None:
    if not can_transition(current, new):
        raise InvalidTransition(f"a job cannot go from {current.value!r} to {new.value!r}")


class _CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Progress(_CamelModel):
    done: int = 0
    total: int = 0


class JobWarning(_CamelModel):
    """Something a job could not do for one object, said in words a person can act on."""

    type: str | None = None
    object_id: str | None = None
    reason: str


class JobError(_CamelModel):
    code: str
    message: str


def utcnow() -> datetime:
    return datetime.now(UTC)


class Job(_CamelModel):
    """A job as the API shows it (DESIGN section 7)."""

    id: str
    tenant_id: str
    kind: JobKind
    status: JobStatus = JobStatus.QUEUED
    progress: Progress = Field(default_factory=Progress)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    created_by: str = "system"
    scope: dict[str, Any] | None = None
    counters: dict[str, int] = Field(default_factory=dict)
    warnings: list[JobWarning] = Field(default_factory=list)
    error: JobError | None = None
    cancel_requested: bool = False
    #: Kind-specific parameters (snapshot mode, snapshot ids of a report...).
    parameters: dict[str, Any] = Field(default_factory=dict)
    #: Kind-specific results (the snapshot id a snapshot job produced...).
    result: dict[str, Any] = Field(default_factory=dict)
    #: Sequence number of the last status message applied.
    last_seq: int = 0
