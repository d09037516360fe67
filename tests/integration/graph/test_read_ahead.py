"""Paging asks Graph for the next page as soon as a page has arrived, before the page is
handed over, and never lets that change what is read: a wrong guess of the next link, an
error on the page ahead, a read that stops early."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from rewind_common.errors import GraphError
from rewind_common.graph.client import GraphClient
from rewind_common.graph.read_ahead import next_link_in
from rewind_common.settings import TenantConnection
from tests.support.emulator import DEMO_TENANT, running_emulator

BASE = "http://graph.test/v1.0"


class ScriptedGraph:
    """Answers from a script of pages (``/pages/N``); records every request."""

    def __init__(self, bodies: dict[str, Any], statuses: dict[str, int] | None = None) -> None:
        self.bodies = bodies
        self.statuses = statuses or {}
        self.requested: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.0")
        self.requested.append(path)
        status = self.statuses.get(path, 200)
        if status != 200:
            error = {"error": {"code": "Request_ResourceNotFound", "message": "gone"}}
            return httpx.Response(status, json=error)
        return httpx.Response(200, content=orjson.dumps(self.bodies[path]))


def _page(number: int, following: int | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"value": [{"id": f"{number}-{i}"} for i in range(3)], **extra}
    if following is not None:
        body["@odata.nextLink"] = f"{BASE}/pages/{following}"
    return body


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[GraphClient, ScriptedGraph]]:
    graph = ScriptedGraph(
        {"/pages/1": _page(1, 2), "/pages/2": _page(2, 3), "/pages/3": _page(3, None)}
    )
    tenant = TenantConnection(tenant_id=DEMO_TENANT, graph_base_url=BASE, credential="none")
    client = GraphClient(tenant, transport=httpx.MockTransport(graph))
    try:
        yield client, graph
    finally:
        await client.close()


async def test_the_next_page_is_requested_before_a_page_is_handed_over(
    scripted: tuple[GraphClient, ScriptedGraph],
) -> None:
    client, graph = scripted
    seen_when_handed: list[list[str]] = []
    ids: list[str] = []
    async for page in client.pages("/pages/1"):
        seen_when_handed.append(list(graph.requested))
        ids.extend(item["id"] for item in page.items)
    assert seen_when_handed == [
        ["/pages/1", "/pages/2"],
        ["/pages/1", "/pages/2", "/pages/3"],
        ["/pages/1", "/pages/2", "/pages/3"],
    ]
    assert ids == [f"{n}-{i}" for n in (1, 2, 3) for i in range(3)]


async def test_a_wrong_guess_of_the_next_link_is_dropped_for_the_parsed_one(
    scripted: tuple[GraphClient, ScriptedGraph],
) -> None:
    """A nested object holding a member named like the page's link, before it: the
    request sent ahead is for the wrong page, and the right one is read instead."""
    client, graph = scripted
    graph.bodies["/pages/1"] = {
        "value": [{"id": "1-0", "extra": {"@odata.nextLink": f"{BASE}/pages/3"}}],
        "@odata.nextLink": f"{BASE}/pages/2",
    }
    ids = [item["id"] async for page in client.pages("/pages/1") for item in page.items]
    assert ids == ["1-0", *(f"{n}-{i}" for n in (2, 3) for i in range(3))]
    assert graph.requested[:3] == ["/pages/1", "/pages/3", "/pages/2"]


async def test_an_error_on_the_page_ahead_comes_after_the_pages_before_it(
    scripted: tuple[GraphClient, ScriptedGraph],
) -> None:
    client, graph = scripted
    graph.statuses["/pages/2"] = 404
    pages = client.pages("/pages/1")
    first = await anext(pages)
    assert [item["id"] for item in first.items] == ["1-0", "1-1", "1-2"]
    with pytest.raises(GraphError) as raised:
        await anext(pages)
    assert raised.value.status == 404


async def test_a_read_that_stops_early_leaves_nothing_running(
    scripted: tuple[GraphClient, ScriptedGraph],
) -> None:
    client, graph = scripted
    pages = client.pages("/pages/1")
    async for _ in pages:
        break
    await pages.aclose()  # type: ignore[attr-defined]
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert others == []
    assert graph.requested == ["/pages/1", "/pages/2"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"value":[],"@odata.nextLink":"https://g/v1.0/users?$skiptoken=a%2Fb"}', "https://g/v1.0/users?$skiptoken=a%2Fb"),
        (b'{"@odata.nextLink" : "https:\\/\\/g\\/x?a=\\u0026"}', "https://g/x?a=&"),
        (b'{"value":[{"members@odata.nextLink":"https://g/m"}]}', None),
        (b'{"value":[{"note":"\\"@odata.nextLink\\":\\"https://g/fake\\""}]}', None),
        (b'{"value":[]}', None),
    ],
)  # fmt: skip
def test_the_next_link_is_found_in_an_answer_not_parsed_yet(
    content: bytes, expected: str | None
) -> None:
    assert next_link_in(content) == expected


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_emulator(Path(tmp_path_factory.mktemp("emulator"))) as base:
        yield base


async def test_over_a_real_connection_a_page_is_handed_over_once_the_next_request_is_sent(
    emulator: str,
) -> None:
    """Not once it is answered: Graph works on the next page while the caller works on
    this one. The emulator counts a request when it arrives and answers it 400 ms later."""
    latency_ms = 400
    tenant = TenantConnection(
        tenant_id=DEMO_TENANT, graph_base_url=f"{emulator}/v1.0", credential="none"
    )
    async with httpx.AsyncClient(base_url=emulator) as control:
        await control.put("/_emulator/config", json={"latencyMs": latency_ms})
        await control.delete("/_emulator/stats")
        client = GraphClient(tenant)
        try:
            arrived: list[float] = []
            counted: list[int] = []
            async for _ in client.pages("/users", {"$top": "25", "$select": "id"}):
                arrived.append(time.monotonic())
                stats = (await control.get("/_emulator/stats")).json()
                counted.append(stats["byRoute"].get("GET /users", 0))
        finally:
            await client.close()
            await control.put("/_emulator/config", json={"latencyMs": 0})
    assert counted == [2, 3, 3]  # 60 users: pages of 25, 25 and 10
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrived)]
    assert min(gaps) > latency_ms / 2 / 1000
