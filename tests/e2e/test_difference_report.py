"""End to end, as real processes (emulator, Redis, MongoDB, API, status recorder,
snapshotter, differ): back up a generated tenant through the API, play a scripted
incident with Graph requests, then ask ``rewind diff create --wait`` what changed. The
report must list exactly the incident's changes, nothing else."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack.stack import Stack, StackConfig, console_script

from rewind_common.storage.mongo import Mongo
from rewind_common.storage.tokens import Role, TokenRepository
from tests.integration.differ.incident import USER_EDIT, Incident, play, prepare

TENANT_SIZE = {
    "users": 300,
    "groups": 30,
    "membersPerGroup": 15,
    "applications": 10,
    "servicePrincipals": 12,
    "conditionalAccessPolicies": 5,
    "namedLocations": 3,
    "seed": 11,
}
TERMINAL = {"Completed", "Completed with warnings", "Failed", "Canceled"}


@pytest.fixture
def stack(tmp_path: Path, redis_db_url: str, mongo_url: str) -> Iterator[Stack]:
    database = f"rewind_e2e_{uuid.uuid4().hex[:10]}"
    running = Stack(
        StackConfig(
            root=tmp_path,
            redis_url=redis_db_url,
            mongo_url=mongo_url,
            settings={"REWIND_MONGO_DATABASE": database, "REWIND_METRICS_PORT": "0"},
            step_seconds=5.0,
        )
    )
    try:
        running.start_emulator()
        running.start_api()
        running.start_recorder()
        running.start_worker("snapshotter")
        running.start_worker("differ")
        yield running
    finally:
        running.stop()
        for name, process in running.processes.items():
            if name in ("differ", "snapshotter") and process.log_path.exists():
                print(f"--- {name} log ---\n{process.tail(30)}")

        async def drop() -> None:
            mongo = Mongo(mongo_url, database)
            await mongo.client.drop_database(database)
            await mongo.close()

        asyncio.run(drop())


def _admin_token(stack: Stack) -> str:
    async def create() -> str:
        mongo = Mongo(stack.mongo_url, stack.database)
        try:
            secret, _ = await TokenRepository(mongo).create("e2e", Role.ADMIN)
        finally:
            await mongo.close()
        return secret

    return asyncio.run(create())


class Clients:
    def __init__(self, stack: Stack, token: str) -> None:
        self.stack = stack
        self.token = token
        self.api = httpx.Client(
            base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.emulator = httpx.Client(base_url=stack.emulator_url, timeout=60)
        self.tenant_path = f"/v1/tenants/{stack.config.tenant_id}"

    async def graph(self, method: str, path: str, body: Any) -> Any:
        response = await asyncio.to_thread(self.emulator.request, method, f"/v1.0{path}", json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.emulator.get("/_emulator/state").json()
        return state

    def wait(self, job_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job: dict[str, Any] = self.api.get(f"{self.tenant_path}/jobs/{job_id}").json()
            if job["status"] in TERMINAL:
                return job
            time.sleep(0.3)
        raise TimeoutError(f"job {job_id} did not end")

    def rewind(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "REWIND_API_URL": self.stack.api_url,
            "REWIND_TOKEN": self.token,
            "REWIND_TENANT": self.stack.config.tenant_id,
        }
        return subprocess.run(
            [console_script("rewind"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )


def _snapshot(clients: Clients) -> str:
    started = clients.api.post(f"{clients.tenant_path}/snapshots", json={})
    assert started.status_code == 202, started.text
    job = clients.wait(started.json()["id"])
    assert job["status"] == "Completed", job
    return str(job["snapshotId"])


def test_a_difference_report_lists_exactly_a_scripted_incident(stack: Stack) -> None:
    clients = Clients(stack, _admin_token(stack))
    clients.emulator.post("/_emulator/generate", json=TENANT_SIZE).raise_for_status()
    incident: Incident = asyncio.run(prepare(clients.graph, clients.state()))
    snapshot = _snapshot(clients)
    asyncio.run(play(clients.graph, clients.state(), incident))

    result = clients.rewind("diff", "create", "--snapshot", snapshot, "--wait", "--json")

    assert result.returncode == 0, result.stderr + result.stdout
    output = json.loads(result.stdout)
    report, changes = output["report"], output["changes"]
    assert report["status"] == "Completed"
    assert report["complete"] is True
    got = {(c["type"], c["objectId"], c["change"], c["action"]) for c in changes}
    assert got == incident.expected
    by_key = {(c["type"], c["objectId"]): c for c in changes}
    for key, paths in incident.paths.items():
        assert [p["path"] for p in by_key[key]["properties"]] == paths
    assert all(c["recoverable"] for c in changes), [c for c in changes if not c["recoverable"]]
    assert sum(sum(k.values()) for k in report["summary"].values()) == len(incident.expected)

    job = clients.api.get(f"{clients.tenant_path}/jobs/{report['id']}").json()
    assert job["kind"] == "differenceReport"

    shown = clients.rewind("diff", "show", report["id"], "--type", "user")
    assert shown.returncode == 0, shown.stderr
    assert f"→ {USER_EDIT['jobTitle']}" in shown.stdout
    assert "conditions.users.excludeGroups" not in shown.stdout

    scoped = clients.rewind(
        "diff", "create", "--snapshot", snapshot, "--wait", "--json",
        "--id", f"user:{incident.users[0]}", "--id", f"group:{incident.hard_deleted_group}",
    )  # fmt: skip
    assert scoped.returncode == 0, scoped.stderr
    scoped_changes = json.loads(scoped.stdout)["changes"]
    assert {(c["objectId"], c["change"]) for c in scoped_changes} == {
        (incident.users[0], "updated"),
        (incident.hard_deleted_group, "hardDeleted"),
    }
