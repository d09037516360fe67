"""Recoveries through the API: starting one (sources, validation, task, idempotency,
roles), reading it with its plan summary, outcomes, id map and verification, paging its
actions by outcome."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from rewind_api.state import AppState
from rewind_common.domain.records import ObjectState
from rewind_common.jobs.model import utcnow
from rewind_common.storage.pre_recovery import PreRecoverySnapshots
from rewind_common.storage.recoveries import RecoveryStore
from rewind_common.storage.reports import ReportRecord, ReportStore
from rewind_common.storage.tokens import Role
from rewind_common.tasks import Queue, RecoveryPayload, TaskName
from tests.integration.api.support import OTHER_TENANT, TENANT, bearer, queued_tasks, store_snapshot

RECOVERIES = f"/v1/tenants/{TENANT}/recoveries"
USER = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
GROUP = "21d05557-b7b6-418f-86fa-a3118d751be4"
NEW_GROUP = "11111111-2222-4333-8444-555555555555"
FIELDS = {
    "id", "kind", "status", "progress", "createdAt", "startedAt", "finishedAt", "createdBy",
    "scope", "warnings", "error", "snapshotId", "summary", "verification",
    "preRecoverySnapshotId", "idMap", "outcomes", "dryRun", "differenceReportId",
}  # fmt: skip
ACTION_FIELDS = {
    "type", "objectId", "action", "outcome", "error", "before", "after", "newObjectId",
}  # fmt: skip


@pytest.fixture
def reader(tokens: dict[Role, str]) -> dict[str, str]:
    return bearer(tokens[Role.READER])


@pytest.fixture
def operator(tokens: dict[Role, str]) -> dict[str, str]:
    return bearer(tokens[Role.OPERATOR])


async def _start(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> Any:
    response = await client.post(RECOVERIES, json=body, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


async def test_starting_a_recovery_queues_its_task(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str], reader: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    scope = {"objects": [{"type": "user", "ids": [USER.upper()]}]}

    response = await client.post(
        RECOVERIES, json={"snapshotId": "s1", "scope": scope, "dryRun": True}, headers=operator
    )

    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["Location"] == f"/v1/tenants/{TENANT}/jobs/{job['id']}"
    assert job["kind"] == "recovery"
    assert job["status"] == "Queued"
    assert job["snapshotId"] == "s1"
    assert job["dryRun"] is True
    tasks = await queued_tasks(state.redis, Queue.RECOVERIES.value)
    assert [t.name for t in tasks] == [TaskName.RECOVERY.value]
    assert RecoveryPayload.model_validate(tasks[0].args[0]) == RecoveryPayload(
        job_id=job["id"],
        tenant_id=TENANT,
        snapshot_id="s1",
        scope={"objects": [{"type": "user", "ids": [USER]}]},
        dry_run=True,
    )
    shown = await client.get(f"{RECOVERIES}/{job['id']}", headers=reader)
    assert shown.status_code == 200
    assert set(shown.json()) >= FIELDS
    listed = await client.get(RECOVERIES, headers=reader)
    assert [r["id"] for r in listed.json()["items"]] == [job["id"]]


async def test_an_idempotency_key_returns_the_first_job(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    headers = {**operator, "Idempotency-Key": "incident-42"}

    first = await client.post(RECOVERIES, json={"snapshotId": "s1"}, headers=headers)
    again = await client.post(RECOVERIES, json={"snapshotId": "s1"}, headers=headers)
    other = await client.post(
        RECOVERIES, json={"snapshotId": "s1", "dryRun": True}, headers=headers
    )

    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 409
    assert len(await queued_tasks(state.redis, Queue.RECOVERIES.value)) == 1


async def test_only_operators_start_recoveries(
    client: httpx.AsyncClient, state: AppState, reader: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    assert (await client.post(RECOVERIES, json={"snapshotId": "s1"})).status_code == 401
    refused = await client.post(RECOVERIES, json={"snapshotId": "s1"}, headers=reader)
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "exactly one of snapshotId and differenceReportId"),
        ({"snapshotId": "s1", "differenceReportId": "r1"}, 400, "exactly one"),
        ({"snapshotId": "nope"}, 404, "snapshot nope does not exist"),
        ({"snapshotId": "theirs"}, 404, "does not exist in tenant"),
        ({"snapshotId": "s1", "scope": {"types": ["device"]}}, 400, "unknown object type"),
        ({"snapshotId": "s1", "scope": {}}, 400, "names no types and no objects"),
        ({"snapshotId": "s1", "dryRun": "maybe"}, 400, "dryRun"),
        ({"differenceReportId": "missing"}, 404, "difference report missing"),
        ({"differenceReportId": "running"}, 409, "not complete"),
    ],
)
async def test_what_can_be_checked_before_the_job_is_checked(
    client: httpx.AsyncClient,
    state: AppState,
    operator: dict[str, str],
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    await store_snapshot(state.snapshots, "s1")
    await store_snapshot(state.snapshots, "theirs", tenant_id=OTHER_TENANT)
    await ReportStore(state.mongo).start(
        ReportRecord(
            id="running",
            tenant_id=TENANT,
            snapshot_id="s1",
            compare_to=None,
            scope=None,
            created_at=utcnow(),
        )
    )

    response = await client.post(RECOVERIES, json=body, headers=operator)

    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]
    assert await queued_tasks(state.redis, Queue.RECOVERIES.value) == []


async def test_a_complete_report_and_a_pre_recovery_snapshot_are_sources(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    reports = ReportStore(state.mongo)
    record = ReportRecord(
        id="r1", tenant_id=TENANT, snapshot_id="s1", compare_to=None, scope=None,
        created_at=utcnow(),
    )  # fmt: skip
    await reports.start(record)
    await reports.complete("r1", summary={}, completed_at=utcnow())
    pre = await PreRecoverySnapshots(state.mongo, state.snapshots).write(
        "pre-1",
        tenant_id=TENANT,
        recovery_id="rec-0",
        source_snapshot_id="s1",
        states=[ObjectState("user", USER, {"id": USER, "displayName": "Adele"})],
        at=utcnow(),
    )

    from_report = await _start(client, operator, differenceReportId="r1")
    undo = await _start(client, operator, snapshotId=pre.id)

    assert from_report["differenceReportId"] == "r1"
    assert from_report["snapshotId"] == "s1"
    assert undo["snapshotId"] == pre.id
    tasks = await queued_tasks(state.redis, Queue.RECOVERIES.value)
    payloads = [RecoveryPayload.model_validate(t.args[0]) for t in tasks]
    assert [(p.snapshot_id, p.difference_report_id) for p in payloads] == [
        (None, "r1"),
        (pre.id, None),
    ]


async def test_a_recovery_shows_its_plan_outcomes_and_actions(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str], reader: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    job = await _start(client, operator, snapshotId="s1")
    actions: list[dict[str, Any]] = [
        {
            "id": f"update:user:{USER}", "type": "user", "objectId": USER, "action": "update",
            "outcome": "applied", "error": None, "before": {"jobTitle": "x"},
            "after": {"jobTitle": "y"}, "newObjectId": None, "requests": [],
        },
        {
            "id": f"recreate:group:{GROUP}", "type": "group", "objectId": GROUP,
            "action": "recreate", "outcome": "applied", "error": None, "before": None,
            "after": {"displayName": "G"}, "newObjectId": NEW_GROUP, "requests": [],
        },
        {
            "id": f"links:group:{GROUP}:members", "type": "group", "objectId": GROUP,
            "action": "links", "link": "members", "outcome": "failed",
            "error": {"code": "Request_BadRequest", "message": "no"}, "before": None,
            "after": None, "newObjectId": None, "requests": [],
        },
    ]  # fmt: skip
    store = RecoveryStore(state.mongo)
    record = {
        "snapshotId": "s1",
        "summary": {"user": {"update": 1}, "group": {"recreate": 1, "links": 1}},
        "writes": 3,
        "preRecoverySnapshotId": "pre-1",
        "verification": {"checked": 2, "clean": True, "unexpected": 0, "expected": 0},
    }
    await store.save_plan(job["id"], TENANT, record, actions)

    shown = (await client.get(f"{RECOVERIES}/{job['id']}", headers=reader)).json()

    assert shown["summary"] == record["summary"]
    assert shown["outcomes"] == {"pending": 0, "applied": 2, "failed": 1, "skipped": 0}
    assert shown["idMap"] == {GROUP: NEW_GROUP}
    assert shown["preRecoverySnapshotId"] == "pre-1"
    assert shown["verification"]["clean"] is True
    page = (await client.get(f"{RECOVERIES}/{job['id']}/actions?limit=2", headers=reader)).json()
    assert [a["action"] for a in page["items"]] == ["update", "recreate"]
    assert set(page["items"][0]) >= ACTION_FIELDS
    rest = await client.get(
        f"{RECOVERIES}/{job['id']}/actions", params={"cursor": page["next"]}, headers=reader
    )
    assert [a["action"] for a in rest.json()["items"]] == ["links"]
    assert rest.json()["next"] is None
    failed = await client.get(
        f"{RECOVERIES}/{job['id']}/actions", params={"outcome": "failed"}, headers=reader
    )
    assert [a["error"]["code"] for a in failed.json()["items"]] == ["Request_BadRequest"]
    bad = await client.get(
        f"{RECOVERIES}/{job['id']}/actions", params={"outcome": "done"}, headers=reader
    )
    assert bad.status_code == 400
    missing = await client.get(f"{RECOVERIES}/nope", headers=reader)
    assert missing.status_code == 404
