"""End to end, as real processes (emulator, Redis, MongoDB, API, status recorder,
snapshotter, differ): back up a generated tenant through the API, play a scripted
incident with Graph requests, then ask ``rewind diff create --wait`` what changed. The
report must list exactly the incident's changes, nothing else."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from devstack.stack import Stack

from tests.integration.differ.incident import USER_EDIT, Incident, play, prepare
from tests.support.stack import Clients, running_stack

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


@pytest.fixture
def stack(tmp_path: Path, redis_db_url: str, mongo_url: str) -> Iterator[Stack]:
    with running_stack(
        tmp_path, redis_db_url, mongo_url, workers=("snapshotter", "differ")
    ) as running:
        yield running


def test_a_difference_report_lists_exactly_a_scripted_incident(stack: Stack) -> None:
    clients = Clients(stack)
    clients.emulator.post("/_emulator/generate", json=TENANT_SIZE).raise_for_status()
    incident: Incident = asyncio.run(prepare(clients.graph, clients.state()))
    snapshot = clients.snapshot()
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
