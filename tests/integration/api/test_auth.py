"""Every route but health and metrics needs a token, and the role the route declares; the
API's description too, unless the settings make it public."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from rewind_api.state import AppState
from rewind_common.settings import Settings
from rewind_common.storage.tokens import Role
from tests.integration.api.conftest import asgi_client, running_app
from tests.integration.api.support import TENANT, bearer

OPEN_PATHS = {"/healthz", "/readyz", "/metrics"}
WEAKER = {Role.OPERATOR: Role.READER, Role.ADMIN: Role.OPERATOR}


def _operations(app: FastAPI) -> list[tuple[str, str, Role | None]]:
    """(method, concrete path, required role) of every documented operation."""
    found = []
    for template, operations in app.openapi()["paths"].items():
        path = template.replace("{tenant}", TENANT)
        path = re.sub(r"\{[^}]+\}", "no-such-id", path)
        for method, operation in operations.items():
            security = operation.get("security") or []
            scopes = [
                scope for requirement in security for scope in requirement.get("bearerToken", [])
            ]
            role = max((Role(s) for s in scopes), key=lambda r: r.rank) if scopes else None
            found.append((method.upper(), path, role))
    return found


async def test_every_route_but_health_declares_a_role(app: FastAPI) -> None:
    operations = _operations(app)
    assert len(operations) >= 20
    for method, path, role in operations:
        if path in OPEN_PATHS:
            assert role is None, path
        else:
            assert role is not None, f"{method} {path} declares no role"


async def test_without_a_token_every_route_answers_401(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for method, path, role in _operations(app):
        if role is None:
            continue
        response = await client.request(method, path)
        assert response.status_code == 401, f"{method} {path}: {response.text}"
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthenticated"


async def test_a_too_weak_role_is_refused_with_403(
    app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    checked = 0
    for method, path, role in _operations(app):
        if role is None or role not in WEAKER:
            continue
        response = await client.request(method, path, headers=bearer(tokens[WEAKER[role]]))
        assert response.status_code == 403, f"{method} {path}: {response.text}"
        assert response.json()["error"]["code"] == "forbidden"
        assert role.value in response.json()["error"]["message"]
        checked += 1
    assert checked >= 8


async def test_the_required_role_passes_authentication(
    app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    for method, path, role in _operations(app):
        if role is None:
            continue
        response = await client.request(method, path, headers=bearer(tokens[role]))
        assert response.status_code not in {401, 403}, f"{method} {path}: {response.text}"


async def test_the_api_description_is_for_token_holders_unless_made_public(
    settings: Settings, client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    refused = await client.get("/openapi.json")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthenticated"
    described = await client.get("/openapi.json", headers=bearer(tokens[Role.READER]))
    assert described.status_code == 200
    assert "/v1/tenants/{tenant}/snapshots" in described.json()["paths"]
    assert (await client.get("/docs")).status_code == 404

    public = settings.model_copy(update={"api_public_docs": True})
    async with running_app(public) as app, asgi_client(app) as anyone:
        assert (await anyone.get("/openapi.json")).json()["paths"] == described.json()["paths"]
        docs = await anyone.get("/docs")
        assert docs.status_code == 200
        assert "/openapi.json" in docs.text


@pytest.mark.parametrize(
    "header",
    ["Bearer rwd_notarealtokennotarealtokennotarealtok", "Bearer ", "Basic dXNlcjpwYXNz", "rwd_x"],
)
async def test_unknown_or_malformed_credentials_are_401(
    client: httpx.AsyncClient, header: str
) -> None:
    response = await client.get("/v1/tenants", headers={"Authorization": header})
    assert response.status_code == 401


async def test_tokens_are_managed_by_admins_and_never_listed_with_secrets(
    client: httpx.AsyncClient, state: AppState, tokens: dict[Role, str]
) -> None:
    admin = bearer(tokens[Role.ADMIN])
    created = await client.post("/v1/tokens", json={"name": "ci", "role": "reader"}, headers=admin)
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("rwd_")
    assert len(body["token"]) == 44
    assert body["createdBy"] == "admin-token"

    listed = await client.get("/v1/tokens", headers=admin)
    assert listed.status_code == 200
    text = listed.text
    assert body["token"] not in text
    for secret in tokens.values():
        assert secret not in text
    stored = await state.mongo.db["api_tokens"].find({}, {"_id": 1}).to_list()
    assert all(document["_id"] not in text for document in stored)
    assert {item["name"] for item in listed.json()["items"]} >= {"ci", "admin-token"}
    assert set(listed.json()["items"][0]) == {
        "id", "name", "role", "createdAt", "revokedAt", "createdBy",
    }  # fmt: skip

    new_token = bearer(body["token"])
    assert (await client.get("/v1/tenants", headers=new_token)).status_code == 200
    revoked = await client.delete(f"/v1/tokens/{body['id']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revokedAt"] is not None
    assert (await client.get("/v1/tenants", headers=new_token)).status_code == 401
    missing = await client.delete("/v1/tokens/no-such-token", headers=admin)
    assert missing.status_code == 404


async def test_a_token_is_stored_only_as_its_hash(state: AppState, tokens: dict[Role, str]) -> None:
    documents = await state.mongo.db["api_tokens"].find({}).to_list()
    dumped = repr(documents)
    for secret in tokens.values():
        assert secret not in dumped
