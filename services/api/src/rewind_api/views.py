"""Stored records as the API shows them. The recorder uses ``job_json`` too, so a job
read with GET and a job pushed over server-sent events look exactly alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rewind_api.schemas import JobOut, LegalHoldOut, SnapshotOut, TokenOut
from rewind_common.jobs.model import Job
from rewind_common.storage.pre_recovery import PreRecoverySnapshot
from rewind_common.storage.snapshots import LegalHold, SnapshotRecord
from rewind_common.storage.tokens import TokenRecord


def job_view(job: Job) -> JobOut:
    snapshot_id = job.result.get("snapshotId") or job.parameters.get("snapshotId")
    return JobOut(
        id=job.id,
        tenant_id=job.tenant_id,
        kind=job.kind,
        status=job.status,
        progress=job.progress,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        created_by=job.created_by,
        scope=job.scope,
        warnings=job.warnings,
        error=job.error,
        snapshot_id=str(snapshot_id) if snapshot_id else None,
        cancel_requested=job.cancel_requested,
        counters=job.counters,
        parameters=job.parameters,
        result=job.result,
        seq=job.last_seq,
    )


def job_json(job: Job) -> dict[str, Any]:
    return job_view(job).model_dump(mode="json", by_alias=True)


def snapshot_view(
    record: SnapshotRecord,
    *,
    hold: LegalHold | None,
    expires_at: datetime | None,
    retention_reason: str | None = None,
) -> SnapshotOut:
    return SnapshotOut(
        id=record.id,
        tenant_id=record.tenant_id,
        created_at=record.created_at,
        completed_at=record.completed_at,
        mode=record.mode,
        status=record.status,
        counts=record.counts,
        deleted_counts=record.deleted_counts,
        link_counts=record.link_counts,
        entry_count=record.entry_count,
        new_versions=record.new_versions,
        stored_bytes=record.stored_bytes,
        merkle_root=record.merkle_root,
        previous_root=record.previous_root,
        previous_snapshot_id=record.previous_snapshot_id,
        job_id=record.job_id,
        legal_hold=hold is not None,
        legal_hold_detail=(
            LegalHoldOut(reason=hold.reason, placed_by=hold.placed_by, placed_at=hold.placed_at)
            if hold is not None
            else None
        ),
        expires_at=expires_at,
        retention_reason=retention_reason,
        warnings=record.warnings,
        unread_types=record.unread_types,
        unread_deleted_items=record.unread_deleted_items,
    )


def pre_recovery_snapshot_view(snapshot: PreRecoverySnapshot) -> SnapshotOut:
    view = snapshot_view(
        snapshot.as_record(),
        hold=None,
        expires_at=None,
        retention_reason="kept with its recovery",
    )
    return view.model_copy(
        update={
            "partial": True,
            "recovery_id": snapshot.recovery_id,
            "source_snapshot_id": snapshot.source_snapshot_id,
            "scope": snapshot.scope.to_dict(),
        }
    )


def token_view(record: TokenRecord) -> TokenOut:
    return TokenOut(
        id=record.id,
        name=record.name,
        role=record.role,
        created_at=record.created_at,
        revoked_at=record.revoked_at,
        created_by=record.created_by,
    )
