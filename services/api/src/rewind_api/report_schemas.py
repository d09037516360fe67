"""Request and response bodies of difference reports (DESIGN section 7): a report is a
job with its snapshots and summary; a change is one object's difference."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from rewind_api.schemas import ApiModel, JobOut, RequestModel

ChangeKindName = Literal[
    "updated", "softDeleted", "created", "restored", "hardDeleted", "linksChanged"
]
ActionName = Literal["update", "restore", "softDelete", "recreate", "links"]


class DifferenceReportCreate(RequestModel):
    snapshot_id: str = Field(min_length=1, max_length=64, description="The backup to compare")
    compare_to: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Another snapshot of the tenant; absent: the live tenant",
    )
    scope: dict[str, Any] | None = Field(
        default=None,
        description='{"types": [...]} and/or {"objects": [{"type", "ids": [...]}]}; '
        "absent: every supported object",
    )


class DifferenceReportOut(JobOut):
    """The report's job, with what it compares and, once complete, its summary."""

    compare_to: str | None = None
    #: Change counts per object type and change kind.
    summary: dict[str, dict[str, int]] = Field(default_factory=dict)
    #: True once every change is stored (a recovery can start from it).
    complete: bool = False
    #: Types left out of the comparison, with the reason.
    skipped_types: dict[str, str] = Field(default_factory=dict)


class PropertyChangeOut(ApiModel):
    path: str
    backup: Any = None
    current: Any = None
    recoverable: bool = True
    reason: str | None = None
    #: For unordered collections: elements present now but not in the backup.
    added: list[Any] | None = None
    #: For unordered collections: elements of the backup gone now.
    removed: list[Any] | None = None


class LinkChangeOut(ApiModel):
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    recoverable: bool = True
    reason: str | None = None
    #: Removed targets a recovery cannot add back.
    unresolvable: list[str] = Field(default_factory=list)


class ChangeOut(ApiModel):
    type: str
    object_id: str
    display_name: str | None
    change: ChangeKindName
    action: ActionName
    properties: list[PropertyChangeOut] = Field(default_factory=list)
    links: dict[str, LinkChangeOut] = Field(default_factory=dict)
    recoverable: bool
    reason: str | None = None
