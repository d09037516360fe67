"""Recoveries: ``/v1/tenants/{tenant}/recoveries`` (DESIGN section 7)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from rewind_api.auth import Operator, Reader
from rewind_api.deps import Cursor, IdempotencyKey, Limit, State, Tenant
from rewind_api.routes.accepted import ACCEPTED_RESPONSES, accepted
from rewind_api.schemas import Page
from rewind_api.services.recoveries import RecoveryService, recovery_view
from rewind_api.services.recovery_schemas import RecoveryActionOut, RecoveryCreate, RecoveryOut

router = APIRouter(prefix="/v1/tenants/{tenant}/recoveries", tags=["recoveries"])


@router.post(
    "",
    status_code=202,
    summary="Recover from a snapshot or a difference report (or plan it: dryRun)",
    responses=ACCEPTED_RESPONSES,
)
async def create_recovery(
    principal: Operator,
    tenant: Tenant,
    state: State,
    body: RecoveryCreate,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RecoveryOut:
    started = await RecoveryService(state).start(
        tenant.tenant_id,
        body,
        principal=principal,
        route=f"POST {request.url.path}",
        idempotency_key=idempotency_key,
    )
    accepted(started, response)
    return recovery_view(started.job, None)


@router.get("", summary="Recoveries, newest first")
async def list_recoveries(
    principal: Reader, tenant: Tenant, state: State, cursor: Cursor = None, limit: Limit = 50
) -> Page[RecoveryOut]:
    items, following = await RecoveryService(state).page(
        tenant.tenant_id, cursor=cursor, limit=limit
    )
    return Page(items=items, next=following)


@router.get("/{recovery_id}", summary="One recovery: its job, plan summary and verification")
async def get_recovery(
    principal: Reader, tenant: Tenant, state: State, recovery_id: str
) -> RecoveryOut:
    return await RecoveryService(state).get(tenant.tenant_id, recovery_id)


@router.get("/{recovery_id}/actions", summary="The recovery's actions, in plan order")
async def list_actions(
    principal: Reader,
    tenant: Tenant,
    state: State,
    recovery_id: str,
    outcome: Annotated[
        str | None,
        Query(description="Only actions with this outcome: pending, applied, failed, skipped"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[RecoveryActionOut]:
    items, following = await RecoveryService(state).actions(
        tenant.tenant_id, recovery_id, outcome=outcome, cursor=cursor, limit=limit
    )
    return Page(items=items, next=following)
