"""End to end, as real processes (emulator with a generated tenant, Redis, the MongoDB-
compatible server, API, status recorder, snapshotter): a snapshot created through the
API holds every object and link the emulator holds, and its statuses arrive in order
over server-sent events; the CLI shows an object as backed up and verifies the
snapshot."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from devstack.stack import Stack

from rewind_common.storage.mongo import Mongo
from rewind_common.storage.snapshot_reader import SnapshotReader
from rewind_common.storage.snapshots import SnapshotStore
from tests.integration.snapshotter.support import assert_matches_state
from tests.support.stack import Clients, running_stack

TENANT_SIZE = {
    "users": 250,
    "groups": 25,
    "membersPerGroup": 30,
    "applications": 8,
    "servicePrincipals": 12,
    "conditionalAccessPolicies": 4,
    "namedLocations": 3,
    "seed": 5,
}
STATUS_ORDER = ["Queued", "Loading data", "In progress", "Completed"]


@pytest.fixture
def stack(tmp_path: Path, redis_db_url: str, mongo_url: str) -> Iterator[Stack]:
    with running_stack(tmp_path, redis_db_url, mongo_url, step_seconds=2.0) as running:
        yield running


def _statuses(jobs: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for job in jobs:
        if not seen or seen[-1] != job["status"]:
            seen.append(job["status"])
    return seen


def test_a_snapshot_through_the_api_holds_the_whole_tenant(stack: Stack) -> None:
    clients = Clients(stack)
    emulator, api, tenant = clients.emulator, clients.api, clients.tenant_path
    emulator.post("/_emulator/generate", json=TENANT_SIZE).raise_for_status()
    users = emulator.get("/_emulator/state").json()["types"]["user"]["active"]
    emulator.delete(f"/v1.0/users/{users[0]['id']}").raise_for_status()

    started = api.post(f"{tenant}/snapshots", json={})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    updates = clients.follow(job_id)

    final = updates[-1]
    assert final["status"] == "Completed", final
    statuses = _statuses(updates)
    assert statuses == [s for s in STATUS_ORDER if s in statuses]
    assert statuses[-2:] == ["In progress", "Completed"]
    snapshot_id = final["snapshotId"]
    snapshot = api.get(f"{tenant}/snapshots/{snapshot_id}").json()
    assert snapshot["mode"] == "full"
    assert snapshot["counts"]["user"] == len(users)
    state = emulator.get("/_emulator/state").json()
    assert_matches_state(asyncio.run(_contents(stack, snapshot_id)), state, registry_select=True)

    deleted = api.get(f"{tenant}/snapshots/{snapshot_id}/objects/user/{users[0]['id']}").json()
    assert deleted["deleted"] is True
    # volatile properties are kept as Graph returned them, though never hashed
    in_bin = {u["id"]: u for u in state["types"]["user"]["deleted"]}[users[0]["id"]]
    for name in ("createdDateTime", "deletedDateTime"):
        assert deleted["body"][name] == in_bin[name], name
    policy = state["types"]["conditionalAccessPolicy"]["active"][0]
    shown = clients.rewind(
        "snapshot", "object", snapshot_id, "conditionalAccessPolicy", policy["id"], "--json"
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["body"]["conditions"] == policy["conditions"]

    verified = clients.rewind("snapshot", "verify", snapshot_id, "--wait")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"snapshot {snapshot_id} verified: {sum(snapshot['counts'].values())} objects" in (
        verified.stdout
    )


async def _contents(stack: Stack, snapshot_id: str) -> dict[str, dict[str, Any]]:
    mongo = Mongo(stack.mongo_url, stack.database)
    try:
        store = SnapshotStore(mongo)
        reader = SnapshotReader(store)
        record = await store.find(snapshot_id)
        assert record is not None
        contents: dict[str, dict[str, Any]] = {}
        for type_name, count in record.counts.items():
            found = {
                state.object_id: (state.deleted, state.as_returned, dict(state.links))
                async for state in reader.states(record, type_name)
            }
            assert len(found) == count, type_name
            contents[type_name] = found
        return contents
    finally:
        await mongo.close()


def test_a_running_snapshot_canceled_through_the_api_ends_canceled_within_seconds(
    stack: Stack,
) -> None:
    clients = Clients(stack)
    emulator, api, tenant = clients.emulator, clients.api, clients.tenant_path
    emulator.post("/_emulator/generate", json=TENANT_SIZE).raise_for_status()
    # small, slow pages: the snapshot is still reading when it is canceled
    emulator.put("/_emulator/config", json={"latencyMs": 40, "deltaPageSize": 10})
    for wait_for_progress in (False, True, True):
        job_id = api.post(f"{tenant}/snapshots", json={"mode": "full"}).json()["id"]
        deadline = time.monotonic() + 60
        while True:
            job = clients.job(job_id)
            started = job["status"] == "Loading data"
            if started and (not wait_for_progress or job["progress"]["done"] > 0):
                break
            assert job["status"] in ("Queued", "Loading data"), job
            assert time.monotonic() < deadline, job
            time.sleep(0.02)
        canceled_at = time.monotonic()
        assert api.post(f"{tenant}/jobs/{job_id}/cancel").status_code == 202

        job = clients.wait(job_id, timeout=60)

        assert job["status"] == "Canceled", job
        assert time.monotonic() - canceled_at < 30
        listed = api.get(f"{tenant}/snapshots").json()["items"]
        assert job.get("snapshotId") not in {s["id"] for s in listed}
    emulator.put("/_emulator/config", json={"latencyMs": 0, "deltaPageSize": 200})
