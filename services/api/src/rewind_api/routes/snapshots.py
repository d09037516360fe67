"""Snapshots of a tenant: list, create, read, browse objects, verify, legal hold."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from rewind_api.auth import Admin, Operator, Reader
from rewind_api.deps import Cursor, IdempotencyKey, Limit, State, Tenant
from rewind_api.routes.accepted import ACCEPTED_RESPONSES, accepted
from rewind_api.schemas import (
    JobOut,
    LegalHoldRequest,
    Page,
    SnapshotCreate,
    SnapshotObject,
    SnapshotObjectDetail,
    SnapshotOut,
)
from rewind_api.services.objects import ObjectBrowser
from rewind_api.services.snapshots import SnapshotService

router = APIRouter(prefix="/v1/tenants/{tenant}/snapshots", tags=["snapshots"])


@router.get("", summary="Snapshots, newest first")
async def list_snapshots(
    principal: Reader, tenant: Tenant, state: State, cursor: Cursor = None, limit: Limit = 50
) -> Page[SnapshotOut]:
    items, following = await SnapshotService(state).page(
        tenant.tenant_id, cursor=cursor, limit=limit
    )
    return Page(items=items, next=following)


@router.post(
    "",
    status_code=202,
    summary="Start an on-demand snapshot",
    responses=ACCEPTED_RESPONSES,
)
async def create_snapshot(
    principal: Operator,
    tenant: Tenant,
    state: State,
    request: Request,
    response: Response,
    body: Annotated[SnapshotCreate | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    started = await SnapshotService(state).start_snapshot(
        tenant.tenant_id,
        body or SnapshotCreate(),
        principal=principal,
        route=f"POST {request.url.path}",
        idempotency_key=idempotency_key,
    )
    return accepted(started, response)


@router.get("/{snapshot_id}", summary="One snapshot")
async def get_snapshot(
    principal: Reader, tenant: Tenant, state: State, snapshot_id: str
) -> SnapshotOut:
    return await SnapshotService(state).get(tenant.tenant_id, snapshot_id)


@router.get("/{snapshot_id}/objects", summary="The snapshot's objects, by type")
async def list_objects(
    principal: Reader,
    tenant: Tenant,
    state: State,
    snapshot_id: str,
    type: Annotated[
        str | None, Query(description="An object type; absent: every type in turn")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[SnapshotObject]:
    record = await SnapshotService(state).readable(tenant.tenant_id, snapshot_id)
    items, following = await ObjectBrowser(state.snapshots).page(
        record, type_name=type, cursor=cursor, limit=limit
    )
    return Page(items=items, next=following)


@router.get("/{snapshot_id}/objects/{type}/{object_id}", summary="One object as backed up")
async def get_object(
    principal: Reader, tenant: Tenant, state: State, snapshot_id: str, type: str, object_id: str
) -> SnapshotObjectDetail:
    record = await SnapshotService(state).readable(tenant.tenant_id, snapshot_id)
    return await ObjectBrowser(state.snapshots).get(record, type, object_id)


@router.post(
    "/{snapshot_id}/verify",
    status_code=202,
    summary="Recompute every hash of the snapshot",
    responses=ACCEPTED_RESPONSES,
)
async def verify_snapshot(
    principal: Operator,
    tenant: Tenant,
    state: State,
    snapshot_id: str,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    started = await SnapshotService(state).start_verify(
        tenant.tenant_id,
        snapshot_id,
        principal=principal,
        route=f"POST {request.url.path}",
        idempotency_key=idempotency_key,
    )
    return accepted(started, response)


@router.put("/{snapshot_id}/legal-hold", summary="Keep the snapshot until the hold is lifted")
async def place_legal_hold(
    principal: Admin, tenant: Tenant, state: State, snapshot_id: str, body: LegalHoldRequest
) -> SnapshotOut:
    return await SnapshotService(state).set_hold(
        tenant.tenant_id, snapshot_id, by=principal.name, reason=body.reason
    )


@router.delete("/{snapshot_id}/legal-hold", summary="Lift the legal hold")
async def lift_legal_hold(
    principal: Admin, tenant: Tenant, state: State, snapshot_id: str
) -> SnapshotOut:
    return await SnapshotService(state).clear_hold(tenant.tenant_id, snapshot_id)
