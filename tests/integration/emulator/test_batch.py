"""``$batch`` over HTTP: limits, relative URLs, dependsOn and per-request statuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.emulator.conftest import new_group, new_user


async def batch(http: httpx.AsyncClient, requests: list[dict[str, Any]]) -> httpx.Response:
    return await http.post("/v1.0/$batch", json={"requests": requests})


async def test_statuses_per_request(http: httpx.AsyncClient) -> None:
    user = await new_user(http)
    response = await batch(
        http,
        [
            {"id": "1", "method": "GET", "url": f"/users/{user['id']}"},
            {"id": "2", "method": "GET", "url": "users?$select=id,displayName&$count=true",
             "headers": {"ConsistencyLevel": "eventual"}},
            {"id": "3", "method": "GET", "url": "/users/6f1f8c1e-0000-4000-8000-000000000000"},
            {"id": "4", "method": "POST", "body": {},
             "url": "/groups/6f1f8c1e-0000-4000-8000-000000000000/members/$ref",
             "headers": {"Content-Type": "application/json"}},
        ],
    )  # fmt: skip
    assert response.status_code == 200
    statuses = {r["id"]: r for r in response.json()["responses"]}
    assert statuses["1"]["status"] == 200
    assert statuses["1"]["body"]["id"] == user["id"]
    assert statuses["2"]["body"]["@odata.count"] == 1
    assert statuses["3"]["status"] == 404
    assert statuses["3"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert statuses["4"]["status"] == 404


async def test_versioned_and_absolute_urls_fail_like_graph(http: httpx.AsyncClient) -> None:
    response = await batch(
        http,
        [
            {"id": "1", "method": "GET", "url": "/v1.0/users"},
            {"id": "2", "method": "GET", "url": "https://graph.microsoft.com/v1.0/users"},
            {"id": "3", "method": "GET", "url": "/users"},
        ],
    )
    statuses = {r["id"]: r for r in response.json()["responses"]}
    for item in ("1", "2"):
        assert statuses[item]["status"] == 400
        assert (
            statuses[item]["body"]["error"]["message"]
            == "Resource not found for the segment 'v1.0'."
        )
    assert statuses["3"]["status"] == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"requests": [{"id": str(i), "method": "GET", "url": "/users"} for i in range(21)]},
        {"requests": [{"id": "1", "method": "GET", "url": "/users"}] * 2},
        {"requests": [{"id": "1", "method": "GET"}]},
        {"requests": "nope"},
        {"requests": [{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["9"]}]},
        {"requests": [{"id": "1", "method": "GET", "url": "https://example.com/users"}]},
    ],
)
async def test_malformed_batches_are_refused(
    http: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    response = await http.post("/v1.0/$batch", json=payload)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"


async def test_depends_on_and_failed_dependency(http: httpx.AsyncClient) -> None:
    group = await new_group(http)
    user = await new_user(http)
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"}
    response = await batch(
        http,
        [
            {"id": "1", "method": "POST", "url": f"/groups/{group['id']}/members/$ref", "body": ref,
             "headers": {"Content-Type": "application/json"}},
            {"id": "2", "method": "POST", "url": f"/groups/{group['id']}/members/$ref", "body": ref,
             "headers": {"Content-Type": "application/json"}, "dependsOn": ["1"]},
            {"id": "3", "method": "GET", "url": f"/groups/{group['id']}/members",
             "dependsOn": ["2"]},
        ],
    )  # fmt: skip
    statuses = {r["id"]: r["status"] for r in response.json()["responses"]}
    assert statuses == {"1": 204, "2": 400, "3": 424}


async def test_body_without_content_type(http: httpx.AsyncClient) -> None:
    response = await batch(
        http, [{"id": "1", "method": "POST", "url": "/applications", "body": {"displayName": "x"}}]
    )
    item = response.json()["responses"][0]
    assert item["status"] == 400
    assert "Content-Type" in item["body"]["error"]["message"]


async def test_each_request_is_throttled_and_counted(http: httpx.AsyncClient) -> None:
    await http.delete("/_emulator/stats")
    await http.put(
        "/_emulator/config", json={"throttling": {"enabled": True, "readUnitsPer10s": 5}}
    )
    response = await batch(
        http, [{"id": str(i), "method": "GET", "url": "/users"} for i in range(4)]
    )
    assert response.status_code == 200
    items = response.json()["responses"]
    assert [r["status"] for r in items] == [200, 200, 429, 429]
    assert items[2]["headers"]["Retry-After"]
    stats = (await http.get("/_emulator/stats")).json()
    assert stats["reads"] == 4
    assert stats["throttled"] == 2
    assert stats["byRoute"]["GET /users"] == 4
    assert stats["byRoute"]["POST /$batch"] == 1
