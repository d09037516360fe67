"""End to end, as real processes (emulator, Redis, MongoDB, API, status recorder,
snapshotter, recoverer): a generated tenant is backed up through the API, an incident is
played with Graph requests, and ``rewind recover`` takes the tenant back: first a dry
run (nothing written), then a recovery scoped to one user (only that user changes), then
the whole recovery (``GET /_emulator/state`` equals the backup on every recoverable
property and link, the hard-deleted group re-created with its references remapped, the
rogue objects soft-deleted and restorable), then another incident recovered with the
emulator's throttling on and extra 429s, absorbed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from devstack.stack import Stack

from tests.integration.recoverer.incident import prepare, strike
from tests.integration.recoverer.support import tenant_differences
from tests.support.stack import Clients, running_stack

TENANT_SIZE = {
    "users": 120,
    "groups": 12,
    "membersPerGroup": 10,
    "applications": 6,
    "servicePrincipals": 8,
    "conditionalAccessPolicies": 4,
    "namedLocations": 2,
    "seed": 7,
}


@pytest.fixture
def stack(tmp_path: Path, redis_db_url: str, mongo_url: str) -> Iterator[Stack]:
    with running_stack(
        tmp_path, redis_db_url, mongo_url, workers=("snapshotter", "recoverer")
    ) as running:
        yield running


def test_the_incident_is_recovered_end_to_end(stack: Stack) -> None:
    clients = Clients(stack)
    clients.emulator.post("/_emulator/generate", json=TENANT_SIZE).raise_for_status()
    incident = asyncio.run(prepare(clients.graph, clients.state()))
    snapshot = clients.snapshot()
    before = clients.state()
    asyncio.run(strike(clients.graph, before, incident))
    struck = clients.state()

    # a dry run: the exact plan, nothing written
    dry = clients.rewind("recover", "--snapshot", snapshot, "--dry-run", "--wait", "--json")
    assert dry.returncode == 0, dry.stderr + dry.stdout
    planned = json.loads(dry.stdout)
    assert planned["recovery"]["status"] == "Completed"
    assert {a["outcome"] for a in planned["actions"]} == {"pending"}
    assert clients.state() == struck

    # scoped to one user: only that user changes
    first = incident.users[0]
    scoped = clients.rewind(
        "recover", "--snapshot", snapshot, "--id", f"user:{first}", "--wait", "--json"
    )
    assert scoped.returncode == 0, scoped.stderr + scoped.stdout
    assert [(a["type"], a["objectId"]) for a in json.loads(scoped.stdout)["actions"]] == [
        ("user", first)
    ]
    after_scoped = clients.state()
    for type_name in ("group", "application", "servicePrincipal", "conditionalAccessPolicy"):
        assert after_scoped["types"][type_name] == struck["types"][type_name]
    assert after_scoped["links"] == struck["links"]

    # the whole recovery, with its progress bar and table of outcomes
    full = clients.rewind("recover", "--snapshot", snapshot, "--wait")
    assert full.returncode == 0, full.stderr + full.stdout
    assert "applied" in full.stdout
    assert "rewind recover --snapshot" in full.stdout  # the undo hint
    recoveries = clients.api.get(f"{clients.tenant_path}/recoveries").json()["items"]
    recovery = clients.recovery(recoveries[0]["id"])
    assert recovery["status"] == "Completed", recovery
    assert recovery["verification"]["clean"] is True
    after = clients.state()
    assert tenant_differences(before, after, recovery["idMap"]) == []
    new_group = recovery["idMap"][incident.hard_deleted]
    assert new_group in after["links"]["group"][incident.parent_group]["members"]
    policy = next(
        p for p in after["types"]["conditionalAccessPolicy"]["active"] if p["id"] == incident.policy
    )
    assert new_group in policy["conditions"]["users"]["excludeGroups"]
    deleted_apps = {a["id"] for a in after["types"]["application"]["deleted"]}
    assert incident.rogue_app in deleted_apps
    restored = asyncio.run(
        clients.graph("POST", f"/directory/deletedItems/{incident.rogue_app}/restore")
    )
    assert restored["id"] == incident.rogue_app
    asyncio.run(clients.graph("DELETE", f"/applications/{incident.rogue_app}"))

    # throttling on, and Graph answering 429 on top: the recovery absorbs them
    for user in incident.users:
        asyncio.run(clients.graph("PATCH", f"/users/{user}", {"department": "Throttled"}))
    clients.emulator.put("/_emulator/config", json={"throttling": {"enabled": True}})
    for path in ("/users/", "/groups/", r"\$batch"):
        clients.emulator.post(
            "/_emulator/faults",
            json={"pathRegex": path, "status": 429, "times": 2, "retryAfter": 1},
        ).raise_for_status()
    clients.emulator.delete("/_emulator/stats")
    throttled = clients.rewind("recover", "--snapshot", snapshot, "--wait", "--json")
    assert throttled.returncode == 0, throttled.stderr + throttled.stdout
    result = json.loads(throttled.stdout)["recovery"]
    assert result["status"] == "Completed", result
    assert clients.stats()["throttled"] >= 2
    final = clients.state()
    assert tenant_differences(before, final, recovery["idMap"]) == []
