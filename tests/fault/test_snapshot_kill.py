"""``kill -9`` the snapshotter in the middle of a snapshot: the task is redelivered to a
new snapshotter, the snapshot completes exactly once and verifies, and no job is left
running."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack.stack import Stack, StackConfig

from rewind_common.storage.mongo import Mongo
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.storage.tokens import Role, TokenRepository

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
TERMINAL = {"Completed", "Completed with warnings", "Failed", "Canceled"}


@pytest.fixture
def stack(tmp_path: Path, redis_db_url: str, mongo_url: str) -> Iterator[Stack]:
    database = f"rewind_fault_{uuid.uuid4().hex[:10]}"
    running = Stack(
        StackConfig(
            root=tmp_path,
            redis_url=redis_db_url,
            mongo_url=mongo_url,
            settings={"REWIND_MONGO_DATABASE": database, "REWIND_METRICS_PORT": "0"},
            visibility_timeout=10,
            step_seconds=2.0,
        )
    )
    try:
        running.start_emulator()
        running.start_api()
        running.start_recorder()
        running.start_worker("snapshotter")
        yield running
    finally:
        running.stop()

        async def drop() -> None:
            mongo = Mongo(mongo_url, database)
            await mongo.client.drop_database(database)
            await mongo.close()

        asyncio.run(drop())


def _admin_token(stack: Stack) -> str:
    async def create() -> str:
        mongo = Mongo(stack.mongo_url, stack.database)
        try:
            secret, _ = await TokenRepository(mongo).create("fault", Role.ADMIN)
        finally:
            await mongo.close()
        return secret

    return asyncio.run(create())


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
    api = httpx.Client(
        base_url=stack.api_url,
        headers={"Authorization": f"Bearer {_admin_token(stack)}"},
        timeout=30,
    )
    tenant = f"/v1/tenants/{stack.config.tenant_id}"
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
