"""An emulated tenant in this process: the Graph emulator's ASGI app behind GraphClient
(through ``transport``) and a plain client for its ``/_emulator`` endpoints."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from graph_emulator.app import create_app
from rewind_common.graph.client import GraphClient
from rewind_common.settings import CredentialKind, TenantConnection

TENANT_ID = "8b5b1d58-7f0e-4a9b-9a3c-2d4f6e8a1c01"
BASE_URL = "http://graph.local/v1.0"

SMALL_TENANT: dict[str, int] = {
    "users": 40,
    "groups": 6,
    "membersPerGroup": 25,
    "applications": 3,
    "servicePrincipals": 5,
    "conditionalAccessPolicies": 3,
    "namedLocations": 2,
    "seed": 7,
}


class EmulatedTenant:
    def __init__(self) -> None:
        self.app = create_app(TENANT_ID)
        self.connection = TenantConnection(
            tenant_id=TENANT_ID, graph_base_url=BASE_URL, credential=CredentialKind.NONE
        )
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://graph.local"
        )

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(app=self.app)

    @contextlib.asynccontextmanager
    async def graph(self, tenant: TenantConnection | None = None) -> AsyncIterator[GraphClient]:
        client = GraphClient(tenant or self.connection, transport=self.transport())
        try:
            yield client
        finally:
            await client.close()

    async def generate(self, **sizes: int) -> dict[str, Any]:
        body = {**SMALL_TENANT, **sizes}
        counts: dict[str, Any] = await self.control("POST", "/_emulator/generate", body)
        return counts

    async def state(self) -> dict[str, Any]:
        state: dict[str, Any] = await self.control("GET", "/_emulator/state")
        return state

    async def fault(self, method: str, path_regex: str, status: int, times: int = 1000) -> None:
        await self.control(
            "POST",
            "/_emulator/faults",
            {"method": method, "pathRegex": path_regex, "status": status, "times": times},
        )

    async def clear_faults(self) -> None:
        await self.control("DELETE", "/_emulator/faults")

    async def config(self, **values: Any) -> None:
        await self.control("PUT", "/_emulator/config", values)

    async def control(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        response = await self.http.request(method, path, json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    async def graph_call(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.http.request(method, f"/v1.0{path}", json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    async def close(self) -> None:
        await self.http.aclose()
