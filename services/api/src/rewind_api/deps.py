"""Request parameters every router shares: the tenant in the path, paging, the
idempotency key."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, Path, Query

from rewind_api.state import AppState, get_state
from rewind_common.errors import InvalidRequest, NotFound
from rewind_common.settings import Settings, TenantConnection

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50

State = Annotated[AppState, Depends(get_state)]


def find_tenant(settings: Settings, tenant: str) -> TenantConnection:
    """The configured connection for a tenant GUID (any case)."""
    try:
        tenant_id = str(uuid.UUID(tenant))
    except ValueError:
        raise InvalidRequest(f"tenant must be a tenant id (a GUID), got {tenant!r}") from None
    if len(tenant) != 36:
        raise InvalidRequest(f"tenant must be a tenant id (a GUID), got {tenant!r}")
    for connection in settings.tenants:
        if connection.tenant_id == tenant_id:
            return connection
    raise NotFound(f"tenant {tenant_id} is not a configured connection")


def tenant_connection(
    state: State,
    tenant: Annotated[str, Path(description="The tenant id (GUID) of a configured connection")],
) -> TenantConnection:
    return find_tenant(state.settings, tenant)


Tenant = Annotated[TenantConnection, Depends(tenant_connection)]

Cursor = Annotated[
    str | None,
    Query(max_length=2048, description="The `next` value of the previous page"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Retrying with the same key and body returns the job the first "
        "request created; the same key with another body is a 409.",
    ),
]
