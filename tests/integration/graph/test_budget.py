"""The shared throttling budget against a real Redis: one budget for every process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis

from graph_emulator.app import create_app
from rewind_common.graph.budget import PAUSE_CHECK_SECONDS, GraphBudget
from rewind_common.graph.client import BatchRequest, GraphClient
from rewind_common.graph.costs import RequestCost
from rewind_common.settings import TenantConnection

TENANT = "44444444-4444-4444-4444-444444444444"


@pytest.fixture
async def redis(redis_db_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_db_url)
    try:
        yield client
    finally:
        await client.aclose()


async def test_two_budgets_for_one_tenant_share_the_read_quota(redis: aioredis.Redis) -> None:
    first = GraphBudget(redis, TENANT, read_units_per_10s=5, writes_per_150s=100)
    second = GraphBudget(redis, TENANT, read_units_per_10s=5, writes_per_150s=100)
    for _ in range(3):
        await first.acquire(RequestCost(1, 0))
    await second.acquire(RequestCost(2, 0))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(second.acquire(RequestCost(1, 0)), timeout=0.5)


async def test_a_process_takes_read_units_a_few_dozen_at_a_time(redis: aioredis.Redis) -> None:
    """Graph's 8,000 units: 400 one-unit requests ask Redis about ten times (a few more
    on a slow machine, where leases expire unspent), not 400; the window counts what
    was taken."""
    budget = GraphBudget(redis, TENANT, read_units_per_10s=8000, writes_per_150s=100)
    await budget.acquire(RequestCost(1, 0))
    await redis.config_resetstat()
    for _ in range(400):
        await budget.acquire(RequestCost(1, 0))
    calls = {name: stats["calls"] for name, stats in (await redis.info("commandstats")).items()}
    assert calls.get("cmdstat_evalsha", 0) <= 20
    assert calls.get("cmdstat_get", 0) <= 10
    second = GraphBudget(redis, TENANT, read_units_per_10s=8000, writes_per_150s=100)
    for _ in range(7):  # with the first's 400 and its leases: about 7,450 of 8,000
        await second.acquire(RequestCost(1000, 0))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(second.acquire(RequestCost(1000, 0)), timeout=0.5)


async def test_writes_have_their_own_quota(redis: aioredis.Redis) -> None:
    budget = GraphBudget(redis, TENANT, read_units_per_10s=1000, writes_per_150s=2)
    await budget.acquire(RequestCost(1, 1))
    await budget.acquire(RequestCost(1, 1))
    await budget.acquire(RequestCost(1, 0))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(budget.acquire(RequestCost(1, 1)), timeout=0.5)


async def test_a_429_pauses_every_process_of_the_tenant(redis: aioredis.Redis) -> None:
    throttled = GraphBudget(redis, TENANT, read_units_per_10s=1000, writes_per_150s=100)
    other = GraphBudget(redis, TENANT, read_units_per_10s=1000, writes_per_150s=100)
    unrelated = GraphBudget(
        redis, "55555555-5555-5555-5555-555555555555", read_units_per_10s=1000, writes_per_150s=100
    )
    await throttled.pause(1.0)
    started = time.monotonic()
    await unrelated.acquire(RequestCost(1, 0))
    assert time.monotonic() - started < 0.5
    await other.acquire(RequestCost(1, 0))
    assert time.monotonic() - started >= 0.8


async def test_a_batch_goes_out_with_the_writes_the_window_still_has(
    redis: aioredis.Redis,
) -> None:
    """With 25 writes left in the window, 40 batched writes send 20 and then 5 at once;
    waiting to send 20 together would leave 5 permits unused for a whole window."""
    app = create_app(TENANT)
    transport = httpx.ASGITransport(app=app)
    control = httpx.AsyncClient(transport=transport, base_url="http://graph.test")
    await control.post("/_emulator/generate", json={"users": 45, "groups": 1, "seed": 5})
    users = (await control.get("/_emulator/state")).json()["types"]["user"]["active"]
    budget = GraphBudget(redis, TENANT, read_units_per_10s=1000, writes_per_150s=25)
    tenant = TenantConnection(
        tenant_id=TENANT, graph_base_url="http://graph.test/v1.0", credential="none"
    )
    client = GraphClient(tenant, transport=transport, budget=budget)
    requests = [
        BatchRequest(str(i), "PATCH", f"/users/{user['id']}", {"jobTitle": f"T{i}"})
        for i, user in enumerate(users[:40])
    ]
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.batch(requests), timeout=1.5)
        stats = (await control.get("/_emulator/stats")).json()
        assert stats["writes"] == 25
        assert stats["byRoute"]["POST /$batch"] == 2
    finally:
        await client.close()
        await control.aclose()


async def test_a_pause_set_by_another_process_holds_this_one_within_a_quarter_second(
    redis: aioredis.Redis,
) -> None:
    running = GraphBudget(redis, TENANT, read_units_per_10s=1000, writes_per_150s=100)
    throttled = GraphBudget(redis, TENANT, read_units_per_10s=1000, writes_per_150s=100)
    await running.acquire(RequestCost(1, 0))
    await throttled.pause(1.5)
    await asyncio.sleep(PAUSE_CHECK_SECONDS)
    started = time.monotonic()
    await running.acquire(RequestCost(1, 0))
    assert time.monotonic() - started >= 1.0


async def test_a_429_holds_its_own_process_at_once(redis: aioredis.Redis) -> None:
    """Without waiting for its next look at the shared pause."""
    budget = GraphBudget(redis, TENANT, read_units_per_10s=1000, writes_per_150s=100)
    await budget.acquire(RequestCost(1, 0))
    await budget.pause(0.6)
    started = time.monotonic()
    await budget.acquire(RequestCost(1, 0))
    assert time.monotonic() - started >= 0.5


async def test_a_429_inside_a_batch_pauses_every_process_of_the_tenant(
    redis: aioredis.Redis,
) -> None:
    app = create_app(TENANT)
    transport = httpx.ASGITransport(app=app)
    control = httpx.AsyncClient(transport=transport, base_url="http://graph.test")
    await control.post("/_emulator/generate", json={"users": 3, "groups": 1, "seed": 5})
    users = (await control.get("/_emulator/state")).json()["types"]["user"]["active"]
    fault = {"method": "PATCH", "pathRegex": "/users/", "status": 429, "times": 1,
             "retryAfter": 2}  # fmt: skip
    (await control.post("/_emulator/faults", json=fault)).raise_for_status()
    budget = GraphBudget(redis, TENANT, read_units_per_10s=1000, writes_per_150s=100)
    other = GraphBudget(redis, TENANT, read_units_per_10s=1000, writes_per_150s=100)
    await other.acquire(RequestCost(1, 0))
    tenant = TenantConnection(
        tenant_id=TENANT, graph_base_url="http://graph.test/v1.0", credential="none"
    )
    client = GraphClient(tenant, transport=transport, budget=budget)
    request = BatchRequest("1", "PATCH", f"/users/{users[0]['id']}", {"jobTitle": "Batched"})
    try:
        sending = asyncio.create_task(client.batch([request]))
        for _ in range(500):  # until Graph has answered the batched request 429
            if "429" in (await control.get("/_emulator/stats")).json()["byStatus"]:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(PAUSE_CHECK_SECONDS)
        started = time.monotonic()
        await other.acquire(RequestCost(1, 0))
        held = time.monotonic() - started
        results = await sending
    finally:
        await client.close()
        await control.aclose()
    assert [r.status for r in results] == [204]
    assert held >= 1.0
