"""Jobs keep their promises when what they depend on fails under them: Redis restarted
mid-snapshot, MongoDB unreachable for seconds mid-recovery, Graph answering 503 and 429
storms and timing out, the status recorder down for a whole job, the differ killed
mid-report. Each ends in the right status with nothing lost and nothing done twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from devstack.processes import ManagedProcess
from devstack.stack import Stack

from tests.fault.scenarios import TENANT, recovery_through, refused_by_faults, snapshot_through
from tests.support.stack import Clients, running_stack

FAST = {"step_seconds": 2.0, "visibility_timeout": 10}


def _generated(stack: Stack) -> Clients:
    clients = Clients(stack)
    clients.emulator.post("/_emulator/generate", json=TENANT).raise_for_status()
    return clients


@pytest.fixture
def redis_stack(
    tmp_path: Path, restartable_redis: tuple[ManagedProcess, str], mongo_url: str
) -> Iterator[tuple[Stack, ManagedProcess]]:
    server, url = restartable_redis
    with running_stack(tmp_path, url, mongo_url, **FAST) as running:  # type: ignore[arg-type]
        yield running, server


def test_a_snapshot_completes_across_a_redis_restart(
    redis_stack: tuple[Stack, ManagedProcess],
) -> None:
    stack, redis = redis_stack
    clients = _generated(stack)

    def restart_redis() -> None:
        redis.restart()

    snapshot_through(clients, restart_redis)


@pytest.fixture
def mongo_stack(
    tmp_path: Path, redis_db_url: str, restartable_mongo: tuple[ManagedProcess, str]
) -> Iterator[tuple[Stack, ManagedProcess]]:
    server, url = restartable_mongo
    with running_stack(
        tmp_path,
        redis_db_url,
        url,
        workers=("snapshotter", "recoverer"),
        settings={"REWIND_GRAPH_MAX_CONCURRENCY": "2"},
        **FAST,  # type: ignore[arg-type]
    ) as running:
        yield running, server


def test_a_recovery_completes_across_a_mongodb_outage(
    mongo_stack: tuple[Stack, ManagedProcess],
) -> None:
    stack, mongo = mongo_stack
    clients = _generated(stack)
    snapshot_id = clients.snapshot()

    def outage() -> None:
        mongo.stop()
        time.sleep(5)
        mongo.start()

    recovery_through(clients, snapshot_id, outage)


@pytest.fixture
def stack(tmp_path: Path, redis_db_url: str, mongo_url: str) -> Iterator[Stack]:
    with running_stack(
        tmp_path,
        redis_db_url,
        mongo_url,
        workers=("snapshotter", "differ", "recoverer"),
        settings={"REWIND_GRAPH_TIMEOUT_SECONDS": "3", "REWIND_GRAPH_MAX_CONCURRENCY": "2"},
        **FAST,  # type: ignore[arg-type]
    ) as running:
        yield running


def test_graph_storms_and_timeouts_are_absorbed(stack: Stack) -> None:
    clients = _generated(stack)
    storms = [
        {"method": "GET", "pathRegex": "/v1.0/users", "status": 503, "times": 6},
        {"method": "GET", "pathRegex": "/v1.0/groups", "status": 429, "times": 6, "retryAfter": 1},
        {"method": "GET", "pathRegex": "/v1.0/servicePrincipals", "delayMs": 4000, "times": 2},
    ]

    def read_storm() -> None:
        for fault in storms:
            clients.emulator.post("/_emulator/faults", json=fault).raise_for_status()

    refused_before = _refused(clients)
    snapshot = snapshot_through(clients, read_storm)
    clients.emulator.delete("/_emulator/faults")
    assert _refused(clients) > refused_before, "the read storm must have reached the snapshot"

    # refused writes count as write attempts; a refused $batch is an envelope, not a write
    write_storms = {"/v1.0/users/": 12}

    def write_storm() -> None:
        clients.emulator.post(
            "/_emulator/faults",
            json={
                "method": "PATCH",
                "pathRegex": "/v1.0/users/",
                "status": 429,
                "times": 8,
                "retryAfter": 1,
            },
        ).raise_for_status()
        clients.emulator.post(
            "/_emulator/faults",
            json={"method": "PATCH", "pathRegex": "/v1.0/users/", "status": 503, "times": 4},
        ).raise_for_status()
        clients.emulator.post(
            "/_emulator/faults",
            json={"method": "POST", "pathRegex": "/v1.0/\\$batch", "status": 503, "times": 4},
        ).raise_for_status()

    recovery_through(
        clients,
        snapshot["snapshotId"],
        write_storm,
        refused=lambda: refused_by_faults(clients, write_storms),
    )
    assert refused_by_faults(clients, write_storms) > 0, "the write storm must have landed"


def _refused(clients: Clients) -> int:
    """Requests the emulator answered 429 or 503 so far."""
    by_status = clients.stats()["byStatus"]
    return int(by_status.get("429", 0)) + int(by_status.get("503", 0))


def test_statuses_wait_while_the_recorder_is_down(stack: Stack) -> None:
    clients = _generated(stack)
    recorder = stack.processes["recorder"]
    recorder.stop()
    started = clients.api.post(f"{clients.tenant_path}/snapshots", json={})
    job_id = started.json()["id"]
    time.sleep(8)
    assert clients.job(job_id)["status"] == "Queued", "nothing is applied while it is down"
    recorder.start()

    job = clients.wait(job_id, timeout=180)
    assert job["status"] == "Completed", job
    assert job["startedAt"] is not None
    assert job["progress"]["done"] == job["progress"]["total"] > 0
    assert (
        clients.api.get(f"{clients.tenant_path}/snapshots/{job['snapshotId']}").status_code == 200
    )
    verify = clients.api.post(f"{clients.tenant_path}/snapshots/{job['snapshotId']}/verify")
    verified = clients.wait(verify.json()["id"])
    assert verified["status"] == "Completed", verified


def test_a_killed_differ_resumes_and_reports_exactly_once(stack: Stack) -> None:
    clients = _generated(stack)
    state = clients.state()
    snapshot_id = clients.snapshot()
    changed = state["types"]["user"]["active"][2:42]
    for user in changed:
        clients.emulator.patch(f"/v1.0/users/{user['id']}", json={"department": "Changed"})
    clients.emulator.put("/_emulator/config", json={"latencyMs": 20}).raise_for_status()
    started = clients.api.post(
        f"{clients.tenant_path}/difference-reports", json={"snapshotId": snapshot_id}
    )
    report_id = started.json()["id"]
    deadline = time.monotonic() + 120
    while clients.job(report_id)["progress"]["done"] == 0:
        assert time.monotonic() < deadline, "the report never got under way"
        time.sleep(0.05)
    running = clients.job(report_id)["status"]
    stack.processes["differ"].kill()
    stack.start_worker("differ")
    assert running in ("Loading data", "In progress"), "killed before the report ended"

    job = clients.wait(report_id, timeout=240)
    clients.emulator.put("/_emulator/config", json={"latencyMs": 0}).raise_for_status()
    assert job["status"] == "Completed", job
    changes = clients.api.get(
        f"{clients.tenant_path}/difference-reports/{report_id}/changes", params={"limit": 500}
    ).json()["items"]
    assert sorted(c["objectId"] for c in changes) == sorted(u["id"] for u in changed)
    assert {c["change"] for c in changes} == {"updated"}
