"""``kill -9`` the snapshotter in the middle of a snapshot: the task is redelivered to a
new snapshotter, the snapshot completes exactly once and verifies, and no job is left
running."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack.stack import Stack

from rewind_common.storage.mongo import Mongo
from rewind_common.storage.snapshots import SnapshotStore
from tests.support.stack import TERMINAL, Clients, running_stack

TENANT_SIZE = {
    "users": 4000,
    "groups": 400,
    "membersPerGroup": 20,
    "applications": 100,
    "servicePrincipals": 300,
    "conditionalAccessPolicies": 10,
    "namedLocations": 5,
    "seed": 9,
}


@pytest.fixture
def stack(tmp_path: Path, redis_db_url: str, mongo_url: str) -> Iterator[Stack]:
    with running_stack(
        tmp_path, redis_db_url, mongo_url, step_seconds=2.0, visibility_timeout=10
    ) as running:
        yield running


def _wait(api: httpx.Client, path: str, until: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.get(path).json()
        if until(job):
            return job
        time.sleep(0.2)
    raise TimeoutError(f"{path} never reached the expected state; last: {job}")


async def _records(stack: Stack) -> list[str]:
    mongo = Mongo(stack.mongo_url, stack.database)
    try:
        return [r.id for r in await SnapshotStore(mongo).all_records(stack.config.tenant_id)]
    finally:
        await mongo.close()


def test_a_snapshotter_killed_mid_snapshot_loses_nothing(stack: Stack) -> None:
    httpx.post(
        f"{stack.emulator_url}/_emulator/generate", json=TENANT_SIZE, timeout=120
    ).raise_for_status()
    clients = Clients(stack)
    api, tenant = clients.api, clients.tenant_path
    started = api.post(f"{tenant}/snapshots", json={})
    assert started.status_code == 202, started.text
    job_path = f"{tenant}/jobs/{started.json()['id']}"
    _wait(
        api,
        job_path,
        lambda job: job["status"] == "Loading data" and job["progress"]["done"] > 0,
        timeout=60,
    )

    stack.processes["snapshotter"].kill()
    assert api.get(job_path).json()["status"] not in TERMINAL
    stack.start_worker("snapshotter")

    job = _wait(api, job_path, lambda job: job["status"] in TERMINAL, timeout=240)

    assert job["status"] == "Completed", job
    assert asyncio.run(_records(stack)) == [job["snapshotId"]]
    verify = api.post(f"{tenant}/snapshots/{job['snapshotId']}/verify")
    assert verify.status_code == 202, verify.text
    verified = _wait(
        api, f"{tenant}/jobs/{verify.json()['id']}", lambda j: j["status"] in TERMINAL, 120
    )
    assert verified["status"] == "Completed", verified
    running = [j for j in api.get(f"{tenant}/jobs").json()["items"] if j["status"] not in TERMINAL]
    assert running == []
