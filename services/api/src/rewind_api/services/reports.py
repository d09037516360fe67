"""Difference reports: starting them, listing and reading them, paging their changes.

A report is a job of kind ``differenceReport``: the job holds its status and progress,
the report record (``rewind_common.storage.reports``, written by the differ) its summary
and changes. The request is validated here, before any job exists: the snapshots must be
the tenant's, the scope valid.
"""

from __future__ import annotations

from collections.abc import Sequence

from rewind_api.auth import Principal
from rewind_api.report_schemas import ChangeOut, DifferenceReportCreate, DifferenceReportOut
from rewind_api.services.jobs import JobRequest, JobService, Started
from rewind_api.state import AppState
from rewind_api.views import job_view
from rewind_common.domain.changes import Change, ChangeKind
from rewind_common.domain.scope import Scope
from rewind_common.errors import InvalidRequest
from rewind_common.jobs.model import Job, JobKind
from rewind_common.registry import REGISTRY, type_names
from rewind_common.storage.reports import ReportRecord, ReportStore
from rewind_common.tasks import DifferenceReportPayload, TaskName


def report_view(job: Job, record: ReportRecord | None) -> DifferenceReportOut:
    base = job_view(job).model_dump()
    compare_to = job.parameters.get("compareTo")
    if record is None:
        return DifferenceReportOut(**base, compare_to=compare_to)
    return DifferenceReportOut(
        **base,
        compare_to=record.compare_to,
        summary=record.summary,
        complete=record.complete,
        skipped_types=record.skipped_types,
    )


def change_view(change: Change) -> ChangeOut:
    return ChangeOut.model_validate(change.to_dict())


class ReportService:
    def __init__(self, state: AppState) -> None:
        self._state = state
        self._reports = ReportStore(state.mongo)

    async def start(
        self,
        tenant_id: str,
        body: DifferenceReportCreate,
        *,
        principal: Principal,
        route: str,
        idempotency_key: str | None,
    ) -> Started:
        scope = Scope.from_dict(body.scope, max_ids=self._state.settings.max_scope_ids)
        snapshot = await self._state.snapshots.get(tenant_id, body.snapshot_id)
        compare_to = None
        if body.compare_to is not None:
            if body.compare_to == snapshot.id:
                raise InvalidRequest("compareTo must name another snapshot than snapshotId")
            compare_to = (await self._state.snapshots.get(tenant_id, body.compare_to)).id
        return await JobService(self._state).start(
            JobRequest(
                tenant_id=tenant_id,
                kind=JobKind.DIFFERENCE_REPORT,
                task=TaskName.DIFFERENCE_REPORT,
                created_by=principal.name,
                payload=lambda job_id: DifferenceReportPayload(
                    job_id=job_id,
                    tenant_id=tenant_id,
                    snapshot_id=snapshot.id,
                    compare_to=compare_to,
                    scope=scope.to_dict(),
                ),
                route=route,
                body=body.model_dump(mode="json", by_alias=True, exclude_none=True),
                parameters={"snapshotId": snapshot.id, "compareTo": compare_to},
                scope=scope.to_dict(),
                idempotency_key=idempotency_key,
            )
        )

    async def page(
        self, tenant_id: str, *, cursor: str | None, limit: int
    ) -> tuple[list[DifferenceReportOut], str | None]:
        jobs, following = await self._state.jobs.page(
            tenant_id, kind=JobKind.DIFFERENCE_REPORT, cursor=cursor, limit=limit
        )
        records = await self._reports.records(job.id for job in jobs)
        return [report_view(job, records.get(job.id)) for job in jobs], following

    async def get(self, tenant_id: str, report_id: str) -> DifferenceReportOut:
        job = await self._state.jobs.get(tenant_id, report_id, JobKind.DIFFERENCE_REPORT)
        return report_view(job, await self._reports.find(job.id))

    async def changes(
        self,
        tenant_id: str,
        report_id: str,
        *,
        types: Sequence[str] | None,
        kinds: Sequence[str] | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[ChangeOut], str | None]:
        job = await self._state.jobs.get(tenant_id, report_id, JobKind.DIFFERENCE_REPORT)
        for name in types or ():
            if name not in REGISTRY:
                raise InvalidRequest(
                    f"type: unknown object type {name!r}; known types: {', '.join(type_names())}"
                )
        known_kinds = [kind.value for kind in ChangeKind]
        for kind in kinds or ():
            if kind not in known_kinds:
                raise InvalidRequest(
                    f"change: unknown change kind {kind!r}; known kinds: {', '.join(known_kinds)}"
                )
        changes, following = await self._reports.page_changes(
            job.id,
            types=types or None,
            kinds=kinds or None,
            cursor=cursor,
            limit=limit,
        )
        return [change_view(change) for change in changes], following
