"""Jobs run while something breaks, and the checks every fault test makes afterwards:
the job ends in the right status, the snapshot verifies, no write reached the tenant
twice, and the tenant ends as the backup it was recovered from."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from devstack.stack import Stack

from rewind_common.storage.mongo import Mongo
from rewind_common.storage.snapshots import SnapshotStore
from tests.integration.recoverer.support import tenant_differences
from tests.support.stack import TERMINAL, Clients

#: Big enough that a job is still running when the fault lands, small enough to be quick.
TENANT = {
    "users": 3000,
    "groups": 60,
    "membersPerGroup": 25,
    "applications": 20,
    "servicePrincipals": 30,
    "conditionalAccessPolicies": 4,
    "namedLocations": 2,
    "seed": 13,
}
CHANGED_USERS = 150

Fault = Callable[[], None]


def wait_for(clients: Clients, job_id: str, until: Callable[[dict[str, Any]], bool]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            job = clients.job(job_id)
        except Exception:  # the API may be briefly unable to answer during a fault
            time.sleep(0.2)
            continue
        if until(job):
            return
        assert job["status"] not in TERMINAL, f"the job ended before the fault: {job}"
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached the point of the fault")


def snapshot_records(stack: Stack) -> list[str]:
    async def read() -> list[str]:
        mongo = Mongo(stack.mongo_url, stack.database)
        try:
            records = await SnapshotStore(mongo).all_records(stack.config.tenant_id)
            return [record.id for record in records]
        finally:
            await mongo.close()

    return asyncio.run(read())


def snapshot_through(clients: Clients, fault: Fault) -> dict[str, Any]:
    """A full snapshot with ``fault`` landing while it reads the tenant; the snapshot
    must complete exactly once and verify."""
    started = clients.api.post(f"{clients.tenant_path}/snapshots", json={"mode": "full"})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    wait_for(
        clients,
        job_id,
        lambda job: job["status"] == "Loading data" and job["progress"]["done"] > 0,
    )
    fault()
    # well within the test's own time limit, so a hang reports the job as it stands
    job = clients.wait(job_id, timeout=200)
    assert job["status"] == "Completed", job
    assert job["startedAt"] is not None
    assert job["finishedAt"] is not None
    assert snapshot_records(clients.stack).count(job["snapshotId"]) == 1
    verify = clients.api.post(f"{clients.tenant_path}/snapshots/{job['snapshotId']}/verify")
    assert verify.status_code == 202, verify.text
    verified = clients.wait(verify.json()["id"])
    assert verified["status"] == "Completed", verified
    return job


def incident(clients: Clients, state: dict[str, Any]) -> None:
    async def play() -> None:
        for index, user in enumerate(state["types"]["user"]["active"][2 : 2 + CHANGED_USERS]):
            await clients.graph("PATCH", f"/users/{user['id']}", {"jobTitle": f"Changed {index}"})

    asyncio.run(play())


def planned_actions(clients: Clients, snapshot_id: str) -> list[dict[str, Any]]:
    """The actions a dry run of a recovery from ``snapshot_id`` plans."""
    dry = clients.api.post(
        f"{clients.tenant_path}/recoveries", json={"snapshotId": snapshot_id, "dryRun": True}
    )
    plan = clients.wait(dry.json()["id"])
    assert plan["status"] == "Completed", plan
    actions: list[dict[str, Any]] = clients.api.get(
        f"{clients.tenant_path}/recoveries/{plan['id']}/actions", params={"limit": 500}
    ).json()["items"]
    return actions


def recovery_through(
    clients: Clients, snapshot_id: str, fault: Fault, *, refused: Callable[[], int] = lambda: 0
) -> dict[str, Any]:
    """A recovery with ``fault`` landing halfway; every planned write must reach the
    tenant once and the tenant must end as the backup."""
    before = clients.state()
    incident(clients, before)
    backup_state = before
    actions = planned_actions(clients, snapshot_id)
    planned = sum(len(action["requests"]) for action in actions)
    clients.emulator.put("/_emulator/config", json={"latencyMs": 60}).raise_for_status()
    clients.emulator.delete("/_emulator/stats")

    started = clients.api.post(
        f"{clients.tenant_path}/recoveries", json={"snapshotId": snapshot_id}
    )
    recovery_id = started.json()["id"]
    wait_for(
        clients,
        recovery_id,
        lambda job: (
            job["status"] == "In progress"
            and 0 < job["progress"]["done"] < job["progress"]["total"] // 2
        ),
    )
    fault()
    job = clients.wait(recovery_id, timeout=300)
    clients.emulator.put("/_emulator/config", json={"latencyMs": 0}).raise_for_status()

    assert job["status"] == "Completed", job
    recovery = clients.recovery(recovery_id)
    assert recovery["outcomes"]["applied"] == len(actions)
    assert recovery["verification"]["clean"] is True
    applied = int(clients.stats()["writes"]) - refused()
    assert applied == planned, (
        f"{applied} writes reached the tenant for {planned} planned: {clients.stats()}"
    )
    assert tenant_differences(backup_state, clients.state(), recovery["idMap"]) == []
    return recovery


def refused_by_faults(clients: Clients, injected: dict[str, int]) -> int:
    """How many requests the emulator's injected faults answered (each is consumed once
    per request it refuses); ``injected`` maps a fault's pathRegex to its ``times``."""
    remaining: dict[str, int] = {}
    for fault in clients.emulator.get("/_emulator/faults").json()["faults"]:
        remaining[fault["pathRegex"]] = remaining.get(fault["pathRegex"], 0) + (fault["times"] or 0)
    return sum(times - remaining.get(regex, 0) for regex, times in injected.items())
