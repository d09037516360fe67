"""Task names, queue names and payload schemas: the only coupling between services.

The API sends tasks by name (it never imports worker code); each worker registers the
tasks of its queue under these names and validates payloads with these models.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class Queue(StrEnum):
    SNAPSHOTS = "snapshots"
    #: Retention is the only job that removes snapshot data: a queue of its own lets it run
    #: in a worker logged in as the one database user allowed to, and no other worker.
    RETENTION = "retention"
    DIFFS = "diffs"
    RECOVERIES = "recoveries"
    JOB_STATUS = "job-status"


class TaskName(StrEnum):
    SNAPSHOT = "rewind.snapshot.run"
    VERIFY = "rewind.snapshot.verify"
    RETENTION = "rewind.snapshot.retention"
    SCHEDULE_SNAPSHOTS = "rewind.snapshot.schedule"
    DIFFERENCE_REPORT = "rewind.diff.run"
    RECOVERY = "rewind.recovery.run"
    JOB_STATUS = "rewind.job.status"


TASK_QUEUES: dict[TaskName, Queue] = {
    TaskName.SNAPSHOT: Queue.SNAPSHOTS,
    TaskName.VERIFY: Queue.SNAPSHOTS,
    TaskName.RETENTION: Queue.RETENTION,
    TaskName.SCHEDULE_SNAPSHOTS: Queue.SNAPSHOTS,
    TaskName.DIFFERENCE_REPORT: Queue.DIFFS,
    TaskName.RECOVERY: Queue.RECOVERIES,
    TaskName.JOB_STATUS: Queue.JOB_STATUS,
}


class Payload(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class JobPayload(Payload):
    job_id: str
    tenant_id: str


class SnapshotPayload(JobPayload):
    #: Assigned when the job is created, so the job can name its snapshot from the start.
    snapshot_id: str
    #: "full" or "incremental"; None lets the worker choose (incremental when possible).
    mode: str | None = Field(default=None, pattern="^(full|incremental)$")


class VerifyPayload(JobPayload):
    snapshot_id: str


class RetentionPayload(JobPayload):
    pass


class DifferenceReportPayload(JobPayload):
    snapshot_id: str
    compare_to: str | None = None
    scope: dict[str, Any] | None = None


class RecoveryPayload(JobPayload):
    snapshot_id: str | None = None
    difference_report_id: str | None = None
    scope: dict[str, Any] | None = None
    dry_run: bool = False
