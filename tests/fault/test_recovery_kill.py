"""A recoverer killed with SIGKILL mid-recovery loses nothing: Redis redelivers the step,
a new recoverer resumes it, each remaining action is applied once (the emulator counts
exactly the writes the plan holds), and the tenant ends as an uninterrupted run leaves
it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from devstack.stack import Stack

from tests.fault.scenarios import planned_actions
from tests.integration.recoverer.support import tenant_differences
from tests.support.stack import Clients, running_stack

TENANT = {
    "users": 400,
    "groups": 6,
    "membersPerGroup": 30,
    "applications": 2,
    "servicePrincipals": 3,
    "conditionalAccessPolicies": 2,
    "namedLocations": 1,
    "seed": 5,
}
CHANGED_USERS = 300


@pytest.fixture
def stack(tmp_path: Path, redis_db_url: str, mongo_url: str) -> Iterator[Stack]:
    settings = {"REWIND_GRAPH_MAX_CONCURRENCY": "1"}
    with running_stack(
        tmp_path,
        redis_db_url,
        mongo_url,
        workers=("snapshotter", "recoverer"),
        settings=settings,
        step_seconds=2.0,
        visibility_timeout=5,
    ) as running:
        yield running


def _incident(clients: Clients, state: dict[str, Any]) -> None:
    async def play() -> None:
        for index, user in enumerate(state["types"]["user"]["active"][2 : 2 + CHANGED_USERS]):
            await clients.graph("PATCH", f"/users/{user['id']}", {"jobTitle": f"Changed {index}"})
        group = state["types"]["group"]["active"][0]
        for member in state["links"]["group"][group["id"]]["members"][:25]:
            await clients.graph("DELETE", f"/groups/{group['id']}/members/{member}/$ref")

    asyncio.run(play())


def test_a_killed_recoverer_is_resumed_and_applies_each_action_once(stack: Stack) -> None:
    clients = Clients(stack)
    clients.emulator.post("/_emulator/generate", json=TENANT).raise_for_status()
    snapshot = clients.snapshot()
    before = clients.state()
    _incident(clients, before)
    actions = planned_actions(clients, snapshot)
    planned = sum(len(action["requests"]) for action in actions)
    # Slow writes down so the kill lands mid-recovery.
    clients.emulator.put("/_emulator/config", json={"latencyMs": 150}).raise_for_status()
    clients.emulator.delete("/_emulator/stats")

    started = clients.api.post(f"{clients.tenant_path}/recoveries", json={"snapshotId": snapshot})
    recovery_id = started.json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = clients.job(recovery_id)
        done, total = job["progress"]["done"], job["progress"]["total"]
        if job["status"] == "In progress" and 0 < done < total // 2:
            break
        assert job["status"] not in ("Completed", "Failed"), job
        time.sleep(0.05)
    else:
        raise AssertionError("the recovery never got under way")
    stack.processes["recoverer"].kill()
    killed_at = clients.stats()["writes"]
    stack.start_worker("recoverer")

    job = clients.wait(recovery_id, timeout=240)

    assert job["status"] == "Completed", job
    assert 0 < killed_at < planned
    assert clients.stats()["writes"] == planned
    recovery = clients.recovery(recovery_id)
    assert recovery["outcomes"]["applied"] == len(actions)
    assert recovery["verification"]["clean"] is True
    assert tenant_differences(before, clients.state(), recovery["idMap"]) == []
