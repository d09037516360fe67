"""Fixtures: an in-process emulator driven over ``httpx.ASGITransport``, plain or through
msgraph-sdk with msgraph-core's default middleware (retry, redirect, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from graph_emulator.app import EmulatorApp, create_app
from graph_emulator.emulator import Emulator

ORIGIN = "http://graph.test"
BASE = ORIGIN + "/v1.0"


@pytest.fixture
def app() -> EmulatorApp:
    return create_app()


@pytest.fixture
def emulator(app: EmulatorApp) -> Emulator:
    return app.emulator


@pytest.fixture
async def http(app: EmulatorApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as client:
        yield client


@pytest.fixture
async def graph(app: EmulatorApp) -> AsyncIterator[GraphServiceClient]:
    client = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(base_url=BASE, transport=httpx.ASGITransport(app=app))
    )
    adapter = GraphRequestAdapter(AnonymousAuthenticationProvider(), client=client)
    yield GraphServiceClient(request_adapter=adapter)
    await client.aclose()


async def generate(http: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await http.post("/_emulator/generate", json=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def new_user(
    http: httpx.AsyncClient, name: str = "Test User", **extra: Any
) -> dict[str, Any]:
    nickname = name.replace(" ", "").lower()
    body = {
        "accountEnabled": True,
        "displayName": name,
        "mailNickname": nickname,
        "userPrincipalName": f"{nickname}@contoso.com",
        "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": "Pa55word!long"},
        **extra,
    }
    response = await http.post("/v1.0/users", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def new_group(
    http: httpx.AsyncClient, name: str = "Test Group", *, unified: bool = False, **extra: Any
) -> dict[str, Any]:
    nickname = name.replace(" ", "").lower()
    body: dict[str, Any] = {
        "displayName": name,
        "mailNickname": nickname,
        "mailEnabled": unified,
        "securityEnabled": not unified,
        "groupTypes": ["Unified"] if unified else [],
        **extra,
    }
    response = await http.post("/v1.0/groups", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def new_app(http: httpx.AsyncClient, name: str = "Test App", **extra: Any) -> dict[str, Any]:
    response = await http.post("/v1.0/applications", json={"displayName": name, **extra})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def new_sp(http: httpx.AsyncClient, app_id: str, **extra: Any) -> dict[str, Any]:
    response = await http.post("/v1.0/servicePrincipals", json={"appId": app_id, **extra})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def state(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/_emulator/state")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def bind(kind: str, object_id: str) -> str:
    return f"https://graph.microsoft.com/v1.0/{kind}/{object_id}"
