"""Recoveries: starting them, listing and reading them, paging their actions.

A recovery is a job of kind ``recovery``: the job holds its status and progress, the
recovery's record and actions (``rewind_common.storage.recoveries``, written by the
recoverer) its plan and outcomes. What can be checked before any job exists is checked
here: the scope, that the snapshot (or pre-recovery snapshot) is the tenant's, that the
difference report is the tenant's and complete. The plan itself is computed by the
recoverer against the live tenant; a plan refused for safety (break-glass accounts)
ends the job ``Failed`` with the error ``planRefused``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rewind_api.auth import Principal
from rewind_api.services.jobs import JobRequest, JobService, Started
from rewind_api.services.recovery_schemas import RecoveryActionOut, RecoveryCreate, RecoveryOut
from rewind_api.services.snapshots import SnapshotService
from rewind_api.state import AppState
from rewind_api.views import job_view
from rewind_common.domain.scope import Scope
from rewind_common.errors import Conflict, InvalidRequest
from rewind_common.jobs.model import Job, JobKind
from rewind_common.storage.recoveries import (
    OUTCOMES,
    SUMMARY_FIELDS,
    RecoveryStore,
    action_view,
    summary_of,
)
from rewind_common.storage.reports import ReportStore
from rewind_common.tasks import RecoveryPayload, TaskName


def recovery_view(
    job: Job,
    record: Mapping[str, Any] | None,
    actions: list[dict[str, Any]] | None = None,
) -> RecoveryOut:
    base = job_view(job).model_dump()
    base["snapshot_id"] = base.get("snapshot_id") or job.parameters.get("snapshotId")
    extra: dict[str, Any] = {
        "difference_report_id": job.parameters.get("differenceReportId"),
        "dry_run": bool(job.parameters.get("dryRun", False)),
    }
    if record is not None:
        summary = summary_of(actions or [])
        extra.update(
            snapshot_id=record.get("snapshotId"),
            summary=record.get("summary") or {},
            outcomes=summary["outcomes"],
            outcome_detail=summary["detail"],
            writes=record.get("writes"),
            pre_recovery_snapshot_id=record.get("preRecoverySnapshotId"),
            id_map=_id_map(actions or []),
            verification=record.get("verification"),
            effective_scope=record.get("scope"),
            break_glass_accounts=record.get("breakGlassAccounts") or [],
        )
    base.update(extra)
    return RecoveryOut(**base)


def _id_map(actions: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for action in actions:
        if action.get("newObjectId"):
            out[str(action["objectId"])] = str(action["newObjectId"])
        if action.get("oldAppId") and action.get("newAppId"):
            out[str(action["oldAppId"])] = str(action["newAppId"])
    return dict(sorted(out.items()))


class RecoveryService:
    def __init__(self, state: AppState) -> None:
        self._state = state
        self._recoveries = RecoveryStore(state.mongo)

    async def start(
        self,
        tenant_id: str,
        body: RecoveryCreate,
        *,
        principal: Principal,
        route: str,
        idempotency_key: str | None,
    ) -> Started:
        scope = Scope.from_dict(body.scope, max_ids=self._state.settings.max_scope_ids)
        snapshot_id = body.snapshot_id
        report_id = body.difference_report_id
        if report_id is not None:
            report = await ReportStore(self._state.mongo).get(tenant_id, report_id)
            if not report.complete:
                raise Conflict(
                    f"difference report {report_id} is not complete yet; "
                    "start the recovery when its job has ended"
                )
            snapshot_id = report.snapshot_id
        assert snapshot_id is not None  # RecoveryCreate requires one source
        await self._check_snapshot(tenant_id, snapshot_id)
        return await JobService(self._state).start(
            JobRequest(
                tenant_id=tenant_id,
                kind=JobKind.RECOVERY,
                task=TaskName.RECOVERY,
                created_by=principal.name,
                payload=lambda job_id: RecoveryPayload(
                    job_id=job_id,
                    tenant_id=tenant_id,
                    snapshot_id=body.snapshot_id,
                    difference_report_id=report_id,
                    scope=scope.to_dict(),
                    dry_run=body.dry_run,
                ),
                route=route,
                body=body.model_dump(mode="json", by_alias=True, exclude_none=True),
                parameters={
                    "snapshotId": snapshot_id,
                    "differenceReportId": report_id,
                    "dryRun": body.dry_run,
                },
                scope=scope.to_dict(),
                idempotency_key=idempotency_key,
            )
        )

    async def _check_snapshot(self, tenant_id: str, snapshot_id: str) -> None:
        await SnapshotService(self._state).readable(tenant_id, snapshot_id)

    async def page(
        self, tenant_id: str, *, cursor: str | None, limit: int
    ) -> tuple[list[RecoveryOut], str | None]:
        jobs, following = await self._state.jobs.page(
            tenant_id, kind=JobKind.RECOVERY, cursor=cursor, limit=limit
        )
        views = []
        for job in jobs:
            record = await self._recoveries.record(job.id)
            views.append(recovery_view(job, record, await self._overview(job.id)))
        return views, following

    async def get(self, tenant_id: str, recovery_id: str) -> RecoveryOut:
        job = await self._state.jobs.get(tenant_id, recovery_id, JobKind.RECOVERY)
        record = await self._recoveries.record(job.id)
        return recovery_view(job, record, await self._overview(job.id))

    async def _overview(self, recovery_id: str) -> list[dict[str, Any]]:
        return await self._recoveries.actions(recovery_id, fields=SUMMARY_FIELDS)

    async def actions(
        self,
        tenant_id: str,
        recovery_id: str,
        *,
        outcome: str | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[RecoveryActionOut], str | None]:
        job = await self._state.jobs.get(tenant_id, recovery_id, JobKind.RECOVERY)
        if outcome is not None and outcome not in OUTCOMES:
            raise InvalidRequest(
                f"outcome: unknown outcome {outcome!r}; known outcomes: {', '.join(OUTCOMES)}"
            )
        documents, following = await self._recoveries.page_actions(
            job.id, outcome=outcome, cursor=cursor, limit=limit
        )
        return [RecoveryActionOut.model_validate(action_view(d)) for d in documents], following
