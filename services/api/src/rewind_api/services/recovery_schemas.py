"""Request and response bodies of recoveries (DESIGN section 7): a recovery is a job with
its source, plan summary, verification and pre-recovery snapshot; an action is one step
of its plan with its outcome."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from rewind_api.schemas import ApiModel, JobOut, RequestModel

OutcomeName = Literal["pending", "applied", "failed", "skipped"]
ActionName = Literal["update", "restore", "softDelete", "recreate", "links"]


class RecoveryCreate(RequestModel):
    snapshot_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The backup to go back to (a tenant snapshot, or a recovery's "
        "pre-recovery snapshot to undo that recovery)",
    )
    difference_report_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="A complete difference report: its snapshot, limited to the objects "
        "it lists (the plan is recomputed against the live tenant)",
    )
    scope: dict[str, Any] | None = Field(
        default=None,
        description='{"types": [...]} and/or {"objects": [{"type", "ids": [...]}]}; '
        "absent: every supported object",
    )
    dry_run: bool = Field(default=False, description="Compute and show the plan; write nothing")

    @model_validator(mode="after")
    def _one_source(self) -> RecoveryCreate:
        if (self.snapshot_id is None) == (self.difference_report_id is None):
            raise ValueError("give exactly one of snapshotId and differenceReportId")
        return self


class RecoveryOut(JobOut):
    """The recovery's job, with where it goes back to and, once planned, its plan's
    summary, outcomes, verification and the old → new ids of re-created objects."""

    difference_report_id: str | None = None
    dry_run: bool = False
    #: Action counts per object type and action.
    summary: dict[str, dict[str, int]] = Field(default_factory=dict)
    #: Action counts per outcome.
    outcomes: dict[str, int] = Field(default_factory=dict)
    #: Per type, action and outcome.
    outcome_detail: dict[str, dict[str, dict[str, int]]] = Field(default_factory=dict)
    #: Graph write requests the plan sends when every action is taken.
    writes: int | None = None
    #: The snapshot of every object the recovery writes, taken before its first write:
    #: recover from it to undo the recovery.
    pre_recovery_snapshot_id: str | None = None
    #: Old id → new id of every object the recovery re-created (appIds too).
    id_map: dict[str, str] = Field(default_factory=dict)
    #: The live tenant compared with the backup after applying.
    verification: dict[str, Any] | None = None
    #: The scope the plan covered (the request's, within what the source knows).
    effective_scope: dict[str, Any] | None = None
    break_glass_accounts: list[dict[str, Any]] = Field(default_factory=list)


class RecoveryActionOut(ApiModel):
    id: str
    seq: int
    type: str
    object_id: str
    display_name: str | None = None
    action: ActionName
    link: str | None = None
    outcome: OutcomeName
    error: dict[str, Any] | None = None
    before: Any = None
    after: Any = None
    new_object_id: str | None = None
    phase: int = 0
    depends_on: list[str] = Field(default_factory=list)
    #: The Graph requests the action sends (ids of objects not re-created yet and the
    #: new password are placeholders: ``{{newId:...}}``, ``{{password}}``).
    requests: list[dict[str, Any]] = Field(default_factory=list)
    properties: list[str] = Field(default_factory=list)
    link_changes: dict[str, list[str]] | None = None
    warnings: list[dict[str, str]] = Field(default_factory=list)
    reason: str | None = None
    attempted_at: Any = None
    finished_at: Any = None
