"""Difference reports: ``/v1/tenants/{tenant}/difference-reports`` (DESIGN section 7)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from rewind_api.auth import Operator, Reader
from rewind_api.deps import Cursor, IdempotencyKey, Limit, State, Tenant
from rewind_api.report_schemas import ChangeOut, DifferenceReportCreate, DifferenceReportOut
from rewind_api.routes.accepted import ACCEPTED_RESPONSES, accepted
from rewind_api.schemas import Page
from rewind_api.services.reports import ReportService, report_view

router = APIRouter(prefix="/v1/tenants/{tenant}/difference-reports", tags=["difference reports"])


@router.post(
    "",
    status_code=202,
    summary="Compare a snapshot with the live tenant or another snapshot",
    responses=ACCEPTED_RESPONSES,
)
async def create_report(
    principal: Operator,
    tenant: Tenant,
    state: State,
    body: DifferenceReportCreate,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> DifferenceReportOut:
    started = await ReportService(state).start(
        tenant.tenant_id,
        body,
        principal=principal,
        route=f"POST {request.url.path}",
        idempotency_key=idempotency_key,
    )
    accepted(started, response)
    return report_view(started.job, None)


@router.get("", summary="Difference reports, newest first")
async def list_reports(
    principal: Reader, tenant: Tenant, state: State, cursor: Cursor = None, limit: Limit = 50
) -> Page[DifferenceReportOut]:
    items, following = await ReportService(state).page(tenant.tenant_id, cursor=cursor, limit=limit)
    return Page(items=items, next=following)


@router.get("/{report_id}", summary="One difference report: its job, snapshots and summary")
async def get_report(
    principal: Reader, tenant: Tenant, state: State, report_id: str
) -> DifferenceReportOut:
    return await ReportService(state).get(tenant.tenant_id, report_id)


@router.get("/{report_id}/changes", summary="The report's changes, in dependency order")
async def list_changes(
    principal: Reader,
    tenant: Tenant,
    state: State,
    report_id: str,
    type: Annotated[
        list[str] | None, Query(description="Only these object types (repeatable)")
    ] = None,
    change: Annotated[
        list[str] | None,
        Query(
            description="Only these change kinds: updated, softDeleted, created, restored, "
            "hardDeleted, linksChanged (repeatable)"
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[ChangeOut]:
    items, following = await ReportService(state).changes(
        tenant.tenant_id,
        report_id,
        types=type,
        kinds=change,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next=following)
