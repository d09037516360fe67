"""Request and response bodies (DESIGN section 7): camelCase JSON, typed.

Responses carry every field DESIGN fixes and a few more that clients find useful
(``cancelRequested``, ``counters``, ``deletedCounts``...). Requests reject unknown fields,
so a typo is a 400 instead of a silently ignored option.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from rewind_common.jobs.model import JobError, JobKind, JobStatus, JobWarning, Progress
from rewind_common.storage.tokens import Role

T = TypeVar("T")


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True
    )


class RequestModel(ApiModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class Page(ApiModel, Generic[T]):
    """A page of a list; pass ``next`` back as ``?cursor=`` for the following page."""

    items: list[T]
    next: str | None = None


# -- health --------------------------------------------------------------------------


class Health(ApiModel):
    status: Literal["ok"] = "ok"


class Readiness(ApiModel):
    status: Literal["ready"] = "ready"
    mongodb: Literal["up"] = "up"
    redis: Literal["up"] = "up"


# -- tenants -------------------------------------------------------------------------


class TenantOut(ApiModel):
    tenant_id: str
    display_name: str
    graph_base_url: str
    credential: str
    client_id: str | None = None
    break_glass_accounts: list[str] = Field(default_factory=list)


# -- jobs ----------------------------------------------------------------------------


class JobOut(ApiModel):
    id: str
    tenant_id: str
    kind: JobKind
    status: JobStatus
    progress: Progress
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    created_by: str
    scope: dict[str, Any] | None
    warnings: list[JobWarning]
    error: JobError | None
    #: The snapshot a snapshot job produces (known from the start) or a job works on.
    snapshot_id: str | None = None
    cancel_requested: bool = False
    counters: dict[str, int] = Field(default_factory=dict)
    #: What the job was asked to do (snapshot mode...).
    parameters: dict[str, Any] = Field(default_factory=dict)
    #: What the job reported when it ended (kind-specific).
    result: dict[str, Any] = Field(default_factory=dict)
    #: Sequence number of the last status message applied; grows with every update.
    seq: int = 0


# -- snapshots -----------------------------------------------------------------------


class SnapshotCreate(RequestModel):
    #: Absent: incremental when the tenant has an earlier snapshot, else full.
    mode: Literal["full", "incremental"] | None = None


class LegalHoldOut(ApiModel):
    reason: str
    placed_by: str = Field(description="The name of the token that placed the hold.")
    placed_at: datetime


class SnapshotOut(ApiModel):
    id: str
    tenant_id: str
    created_at: datetime
    completed_at: datetime
    mode: str
    status: str
    counts: dict[str, int]
    deleted_counts: dict[str, int]
    link_counts: dict[str, int]
    entry_count: int
    new_versions: int
    stored_bytes: int
    merkle_root: str
    previous_root: str | None
    previous_snapshot_id: str | None
    job_id: str
    legal_hold: bool
    #: Who placed the hold, when and why; null when the snapshot is not held.
    legal_hold_detail: LegalHoldOut | None = None
    #: When retention will remove it; null while held or while it is the newest one.
    expires_at: datetime | None
    #: Why it is kept until then (or for good): ``newest snapshot``, ``legal hold``,
    #: ``newest of its day``, ``kept with every snapshot of the week``, ``kept with its
    #: recovery``.
    retention_reason: str | None = None
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    #: Types the credentials could not read: absent from the snapshot, not empty.
    unread_types: list[str] = Field(default_factory=list)
    #: Types whose live objects it holds but whose deleted items Graph would not list.
    unread_deleted_items: list[str] = Field(default_factory=list)
    #: True for a recovery's pre-recovery snapshot: it holds only the objects that
    #: recovery was about to write (``scope``), as they were just before.
    partial: bool = False
    #: For a pre-recovery snapshot: its recovery and the snapshot that recovery read.
    recovery_id: str | None = None
    source_snapshot_id: str | None = None
    scope: dict[str, Any] | None = None


class LegalHoldRequest(RequestModel):
    reason: str = Field(min_length=1, max_length=1000)


class SnapshotObject(ApiModel):
    type: str
    object_id: str
    display_name: str | None
    deleted: bool
    version_hash: str


class SnapshotObjectDetail(SnapshotObject):
    #: The object as Graph returned it when it was backed up: its hashed body and the
    #: volatile properties (sign-in activity, the service's timestamps) kept beside it.
    body: dict[str, Any]
    #: ``members`` / ``owners``: ids; ``manager``: an id or null (per the object's type).
    links: dict[str, list[str] | str | None]


# -- tokens --------------------------------------------------------------------------


class TokenCreate(RequestModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")
    role: Role


class TokenOut(ApiModel):
    id: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None = None
    created_by: str | None = None


class TokenCreated(TokenOut):
    #: The secret, shown this once; only its hash is stored.
    token: str
