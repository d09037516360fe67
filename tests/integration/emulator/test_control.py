"""The ``/_emulator`` endpoints: reset, generate, state, config, faults, sync, stats;
throttling and latency."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.integration.emulator.conftest import generate, new_group, new_user, state

REGISTRY_TYPES = {
    "user", "group", "application", "servicePrincipal", "conditionalAccessPolicy",
    "namedLocation", "authorizationPolicy", "authenticationMethodsPolicy", "organization",
    "oAuth2PermissionGrant", "appRoleAssignment",
}  # fmt: skip


async def test_state_shape(http: httpx.AsyncClient) -> None:
    counts = await generate(
        http, users=30, groups=6, membersPerGroup=4, applications=3, servicePrincipals=5,
        conditionalAccessPolicies=3, namedLocations=2, seed=9,
    )  # fmt: skip
    assert counts["user"] == 30
    user = (await http.get("/v1.0/users?$top=1")).json()["value"][0]
    await http.delete(f"/v1.0/users/{user['id']}")
    snapshot = await state(http)
    assert snapshot["tenantId"] == "84841066-274d-4ec0-a5c1-276be684bdd3"
    assert set(snapshot["types"]) == REGISTRY_TYPES
    users = snapshot["types"]["user"]
    assert len(users["active"]) == 29
    assert [u["id"] for u in users["deleted"]] == [user["id"]]
    # Full bodies: every property, not the default set.
    assert "department" in users["active"][0]
    assert "accountEnabled" in users["active"][0]
    locations = snapshot["types"]["namedLocation"]["active"]
    assert all(loc["@odata.type"].startswith("#microsoft.graph.") for loc in locations)
    methods = snapshot["types"]["authenticationMethodsPolicy"]["active"][0]
    assert all("@odata.type" in c for c in methods["authenticationMethodConfigurations"])
    assert set(snapshot["links"]) == {"group", "application", "servicePrincipal", "user"}
    some_group = next(iter(snapshot["links"]["group"].values()))
    assert set(some_group) == {"members", "owners"}
    assert set(next(iter(snapshot["links"]["application"].values()))) == {"owners"}
    managers = snapshot["links"]["user"]
    assert any(v["manager"] for v in managers.values())


async def test_generate_is_deterministic_and_resets(http: httpx.AsyncClient) -> None:
    params = {"users": 20, "groups": 4, "applications": 2, "servicePrincipals": 3, "seed": 5}
    await generate(http, **params)
    first = await state(http)
    await new_user(http, "Extra")
    await generate(http, **params)
    assert await state(http) == first
    await generate(http, **{**params, "seed": 6})
    assert await state(http) != first
    refused = await http.post("/_emulator/generate", json={"users": -1})
    assert refused.status_code == 400


async def test_reset_keeps_singletons(http: httpx.AsyncClient) -> None:
    await generate(http, users=5)
    assert (await http.post("/_emulator/reset")).status_code == 204
    snapshot = await state(http)
    assert snapshot["types"]["user"] == {"active": [], "deleted": []}
    assert len(snapshot["types"]["organization"]["active"]) == 1
    assert len(snapshot["types"]["authorizationPolicy"]["active"]) == 1


async def test_stats(http: httpx.AsyncClient) -> None:
    await http.get("/v1.0/users")
    await http.get("/v1.0/users?$select=id")
    await new_group(http)
    await http.get("/v1.0/nope")
    await http.get("/_emulator/state")
    stats = (await http.get("/_emulator/stats")).json()
    assert stats["requests"] == 4
    assert stats["reads"] == 3
    assert stats["writes"] == 1
    assert stats["byRoute"]["GET /users"] == 2
    assert stats["byRoute"]["POST /groups"] == 1
    assert stats["byStatus"] == {"200": 2, "201": 1, "400": 1}
    # GET /users costs 2 units, 1 with $select; a write costs 1.
    assert stats["resourceUnits"] == 2 + 1 + 1
    assert (await http.delete("/_emulator/stats")).status_code == 204
    assert (await http.get("/_emulator/stats")).json()["requests"] == 0


@pytest.mark.parametrize(
    ("status", "code"),
    [(403, "Authorization_RequestDenied"), (500, "generalException"), (503, "serviceNotAvailable"),
     (504, "GatewayTimeout"), (429, "TooManyRequests")],
)  # fmt: skip
async def test_faults(http: httpx.AsyncClient, status: int, code: str) -> None:
    created = await http.post(
        "/_emulator/faults",
        json={"method": "GET", "pathRegex": "^/v1.0/users$", "status": status, "times": 2},
    )
    assert created.status_code == 201
    for _ in range(2):
        response = await http.get("/v1.0/users")
        assert response.status_code == status
        assert response.json()["error"]["code"] == code
        if status == 429:
            assert response.headers["Retry-After"] == "1"
    assert (await http.get("/v1.0/users")).status_code == 200
    assert (await http.get("/v1.0/groups")).status_code == 200


async def test_fault_until_cleared_and_delay(http: httpx.AsyncClient) -> None:
    await http.post(
        "/_emulator/faults", json={"pathRegex": "/groups", "status": 503, "times": None}
    )
    for _ in range(3):
        assert (await http.get("/v1.0/groups")).status_code == 503
    assert (await http.delete("/_emulator/faults")).status_code == 204
    assert (await http.get("/v1.0/groups")).status_code == 200
    await http.post("/_emulator/faults", json={"pathRegex": "/groups", "delayMs": 200, "times": 1})
    start = time.perf_counter()
    assert (await http.get("/v1.0/groups")).status_code == 200
    assert time.perf_counter() - start >= 0.2
    bad = await http.post("/_emulator/faults", json={"status": 302})
    assert bad.status_code == 400


async def test_read_throttling_headers(http: httpx.AsyncClient) -> None:
    config = await http.put(
        "/_emulator/config", json={"throttling": {"enabled": True, "readUnitsPer10s": 10}}
    )
    assert config.json()["throttling"]["enabled"] is True
    statuses = []
    for _ in range(6):
        response = await http.get("/v1.0/users")  # 2 units each
        statuses.append(response.status_code)
        assert response.headers.get("x-ms-resource-unit") in ("2", None)
    assert statuses == [200] * 5 + [429]
    assert response.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert response.headers["x-ms-throttle-scope"].startswith("Tenant_Application/Read/")
    assert 1 <= int(response.headers["Retry-After"]) <= 10
    assert response.json()["error"]["code"] == "TooManyRequests"


async def test_write_throttling(http: httpx.AsyncClient) -> None:
    await http.put("/_emulator/config", json={"throttling": {"enabled": True, "writesPer150s": 2}})
    await new_group(http, "One")
    await new_group(http, "Two")
    response = await http.post(
        "/v1.0/groups",
        json={
            "displayName": "x",
            "mailNickname": "x",
            "mailEnabled": False,
            "securityEnabled": True,
        },
    )
    assert response.status_code == 429
    assert response.headers["x-ms-throttle-information"] == "WriteLimitExceeded"


async def test_latency(http: httpx.AsyncClient) -> None:
    await http.put("/_emulator/config", json={"latencyMs": 50})
    start = time.perf_counter()
    await http.get("/v1.0/organization")
    assert time.perf_counter() - start >= 0.05
    assert (await http.get("/_emulator/config")).json()["latencyMs"] == 50


async def test_sync_only_users_and_groups(http: httpx.AsyncClient) -> None:
    group = await new_group(http)
    synced = (await http.post(f"/_emulator/objects/group/{group['id']}/sync")).json()
    assert synced["onPremisesSyncEnabled"] is True
    assert synced["onPremisesSecurityIdentifier"].startswith("S-1-5-21-")
    refused = await http.patch(f"/v1.0/groups/{group['id']}", json={"displayName": "x"})
    assert refused.status_code == 400
    user = await new_user(http)
    members = await http.post(
        f"/v1.0/groups/{group['id']}/members/$ref",
        json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"},
    )
    assert members.status_code == 400
    bad = await http.post(f"/_emulator/objects/application/{group['id']}/sync")
    assert bad.status_code == 400
    assert (await http.post("/_emulator/nothing")).status_code == 404


async def test_state_hides_assignments_of_deleted_principals(http: httpx.AsyncClient) -> None:
    await generate(http, users=30, groups=4, applications=4, servicePrincipals=6, seed=3)
    snapshot = await state(http)
    assignment = next(
        a for a in snapshot["types"]["appRoleAssignment"]["active"] if a["principalType"] == "User"
    )
    await http.delete(f"/v1.0/users/{assignment['principalId']}")
    hidden = await state(http)
    assert assignment["id"] not in {a["id"] for a in hidden["types"]["appRoleAssignment"]["active"]}
    await http.post(f"/v1.0/directory/deletedItems/{assignment['principalId']}/restore")
    back = await state(http)
    assert assignment["id"] in {a["id"] for a in back["types"]["appRoleAssignment"]["active"]}
    assert (
        back["links"]["user"][assignment["principalId"]]
        == snapshot["links"]["user"][assignment["principalId"]]
    )


async def test_a_refused_batch_counts_as_neither_read_nor_write(http: httpx.AsyncClient) -> None:
    await http.delete("/_emulator/stats")
    await http.post(
        "/_emulator/faults",
        json={"method": "POST", "pathRegex": "/v1.0/\\$batch", "status": 503, "times": 1},
    )
    body = {"requests": [{"id": "1", "method": "PATCH", "url": "/organization/x", "body": {}}]}
    assert (await http.post("/v1.0/$batch", json=body)).status_code == 503
    stats = (await http.get("/_emulator/stats")).json()
    assert (stats["requests"], stats["reads"], stats["writes"]) == (1, 0, 0)
    assert stats["byStatus"] == {"503": 1}
