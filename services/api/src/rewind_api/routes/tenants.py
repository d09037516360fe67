"""Configured tenant connections, without secrets."""

from __future__ import annotations

from fastapi import APIRouter

from rewind_api.auth import Reader
from rewind_api.deps import State, Tenant
from rewind_api.schemas import Page, TenantOut

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])


@router.get("", summary="Configured tenants")
async def list_tenants(principal: Reader, state: State) -> Page[TenantOut]:
    items = [TenantOut.model_validate(t.public_view()) for t in state.settings.tenants]
    return Page(items=items)


@router.get("/{tenant}", summary="One configured tenant")
async def get_tenant(principal: Reader, tenant: Tenant) -> TenantOut:
    return TenantOut.model_validate(tenant.public_view())
