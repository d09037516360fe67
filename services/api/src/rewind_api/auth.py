"""Bearer-token authentication and role checks.

Routes declare the role they need as a security scope (``Reader``, ``Operator``,
``Admin`` below), so the OpenAPI document lists it per operation, as OpenAPI 3.1
allows for non-OAuth schemes: ``"security": [{"bearerToken": ["operator"]}]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from rewind_api.state import AppState, get_state
from rewind_common.errors import AuthenticationRequired, PermissionDenied
from rewind_common.storage.tokens import Role, TokenRecord

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    description="A Rewind API token (`rwd_...`), created with `rewind tokens create` "
    "or `POST /v1/tokens`.",
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name (recorded on the jobs it starts) and role."""

    token_id: str
    name: str
    role: Role

    @classmethod
    def of(cls, record: TokenRecord) -> Principal:
        return cls(token_id=record.id, name=record.name, role=record.role)


def required_role(scopes: list[str]) -> Role:
    """The strongest role named in a route's security scopes (reader when none)."""
    roles = [Role(scope) for scope in scopes]
    return max(roles, key=lambda role: role.rank, default=Role.READER)


async def authenticate(
    security_scopes: SecurityScopes,
    state: Annotated[AppState, Depends(get_state)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise AuthenticationRequired("this route needs a bearer token in Authorization")
    record = await state.tokens.authenticate(credentials.credentials)
    if record is None:
        raise AuthenticationRequired("the bearer token is unknown or revoked")
    principal = Principal.of(record)
    needed = required_role(security_scopes.scopes)
    if not principal.role.allows(needed):
        raise PermissionDenied(
            f"this route needs the {needed.value} role; "
            f"token {principal.name!r} has {principal.role.value}"
        )
    return principal


Reader = Annotated[Principal, Security(authenticate, scopes=[Role.READER.value])]
Operator = Annotated[Principal, Security(authenticate, scopes=[Role.OPERATOR.value])]
Admin = Annotated[Principal, Security(authenticate, scopes=[Role.ADMIN.value])]
