"""The Graph client against the emulator in-process: raw JSON kept whole, paging,
errors with Graph's codes, and batches whose throttled or failed requests are retried."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

import httpx
import pytest

from graph_emulator.app import create_app
from rewind_common.errors import GraphError
from rewind_common.graph.client import BatchRequest, GraphClient
from rewind_common.settings import TenantConnection

TENANT = "84841066-274d-4ec0-a5c1-276be684bdd3"


@pytest.fixture
async def graph() -> AsyncIterator[tuple[GraphClient, httpx.AsyncClient]]:
    app = create_app(TENANT)
    transport = httpx.ASGITransport(app=app)
    control = httpx.AsyncClient(transport=transport, base_url="http://graph.test")
    await control.post(
        "/_emulator/generate",
        json={"users": 60, "groups": 4, "membersPerGroup": 5, "applications": 2,
              "servicePrincipals": 2, "conditionalAccessPolicies": 1, "namedLocations": 1,
              "seed": 3},
    )  # fmt: skip
    tenant = TenantConnection(
        tenant_id=TENANT, graph_base_url="http://graph.test/v1.0", credential="none"
    )
    client = GraphClient(tenant, transport=transport)
    try:
        yield client, control
    finally:
        await client.close()
        await control.aclose()


async def test_pages_follow_next_links_and_keep_every_property(
    graph: tuple[GraphClient, httpx.AsyncClient],
) -> None:
    client, _ = graph
    pages = [
        page
        async for page in client.pages(
            "/users", {"$top": "25", "$select": "id,displayName,employeeId"}
        )
    ]
    assert [len(p.items) for p in pages] == [25, 25, 10]
    assert all(set(item) >= {"id", "displayName", "employeeId"} for p in pages for item in p.items)


async def test_an_answer_is_freed_once_read_without_waiting_for_the_garbage_collector(
    graph: tuple[GraphClient, httpx.AsyncClient],
) -> None:
    """Workers collect young objects rarely (``jobs.worker.GC_THRESHOLD``): an answer
    held in a reference cycle would stay in memory with its body until a full
    collection, and a large tenant's pages would pile up."""
    client, _ = graph
    gc.collect()
    gc.disable()
    try:
        # answers other tests left alive do not count
        earlier = {id(o) for o in gc.get_objects() if type(o) is httpx.Response}
        pages = [len(p.items) async for p in client.pages("/users", {"$top": "20"})]
        left = [o for o in gc.get_objects() if type(o) is httpx.Response and id(o) not in earlier]
    finally:
        gc.enable()
    assert pages == [20, 20, 20]
    assert left == []


async def test_errors_carry_graphs_code(graph: tuple[GraphClient, httpx.AsyncClient]) -> None:
    client, _ = graph
    with pytest.raises(GraphError) as raised:
        await client.get("/users/00000000-0000-0000-0000-000000000001")
    assert raised.value.status == 404
    assert raised.value.graph_code == "Request_ResourceNotFound"


async def test_batched_requests_refused_with_429_or_503_are_sent_again(
    graph: tuple[GraphClient, httpx.AsyncClient],
) -> None:
    client, control = graph
    users = await anext(client.pages("/users", {"$top": "30", "$select": "id"}))
    for fault in (
        {"method": "PATCH", "pathRegex": "/users/", "status": 429, "times": 3, "retryAfter": 1},
        {"method": "PATCH", "pathRegex": "/users/", "status": 503, "times": 3},
    ):
        (await control.post("/_emulator/faults", json=fault)).raise_for_status()
    requests = [
        BatchRequest(str(i), "PATCH", f"/users/{user['id']}", body={"jobTitle": f"Batch {i}"})
        for i, user in enumerate(users.items)
    ]
    results = await client.batch(requests)
    assert [r.id for r in results] == [r.id for r in requests]
    assert {r.status for r in results} == {204}
    stats = (await control.get("/_emulator/stats")).json()
    assert stats["byStatus"]["429"] == 3
    assert stats["byStatus"]["503"] == 3
    titles = {
        u["id"]: u["jobTitle"]
        for u in (await client.get("/users", {"$top": "999", "$select": "id,jobTitle"}))["value"]
    }
    assert all(titles[user["id"]] == f"Batch {i}" for i, user in enumerate(users.items))


async def test_a_throttled_request_in_a_chained_batch_is_sent_again_with_the_rest_of_its_chain(
    graph: tuple[GraphClient, httpx.AsyncClient],
) -> None:
    """Graph answers 424 to the requests after a throttled one and refuses a whole batch
    whose dependsOn names a request that is not in it: the retry must carry the chain's
    remainder and nothing that already succeeded (a member added twice is a 400)."""
    client, control = graph
    groups = (await client.get("/groups", {"$select": "id,groupTypes"}))["value"]
    group = next(g["id"] for g in groups if "Unified" not in g["groupTypes"])
    members = {m["id"] for m in (await client.get(f"/groups/{group}/members"))["value"]}
    users = [u["id"] for u in (await client.get("/users", {"$select": "id"}))["value"]]
    first, second = [u for u in users if u not in members][:2]
    throttled = users[0]
    fault = {"method": "PATCH", "pathRegex": f"/users/{throttled}$", "status": 429,
             "times": 1, "retryAfter": 1}  # fmt: skip
    (await control.post("/_emulator/faults", json=fault)).raise_for_status()

    def add(request_id: str, user: str, after: str) -> BatchRequest:
        ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user}"}
        return BatchRequest(request_id, "POST", f"/groups/{group}/members/$ref", body=ref,
                            depends_on=(after,) if after else ())  # fmt: skip

    chain = [
        add("1", first, ""),
        BatchRequest(
            "2", "PATCH", f"/users/{throttled}", body={"jobTitle": "Chained"}, depends_on=("1",)
        ),
        add("3", second, "2"),
    ]
    results = await client.batch(chain)

    assert [(r.id, r.status) for r in results] == [("1", 204), ("2", 204), ("3", 204)]
    after = {m["id"] for m in (await client.get(f"/groups/{group}/members"))["value"]}
    assert {first, second} <= after
    assert (await client.get(f"/users/{throttled}"))["jobTitle"] == "Chained"
    stats = (await control.get("/_emulator/stats")).json()
    assert stats["byStatus"]["429"] == 1
    assert "400" not in stats["byStatus"]
