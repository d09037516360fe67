"""Difference reports through the API: starting one (validation, task, idempotency),
listing and reading reports, paging their changes by type and change kind."""

from __future__ import annotations

import httpx
import pytest

from rewind_api.state import AppState
from rewind_common.domain.changes import ACTION_FOR, Change, ChangeKind, LinkChange, PropertyChange
from rewind_common.jobs.model import utcnow
from rewind_common.storage.reports import ReportRecord, ReportStore
from rewind_common.storage.tokens import Role
from rewind_common.tasks import DifferenceReportPayload, Queue, TaskName
from tests.integration.api.support import OTHER_TENANT, TENANT, bearer, queued_tasks, store_snapshot

REPORTS = f"/v1/tenants/{TENANT}/difference-reports"
USER = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
JOB_FIELDS = {
    "id", "kind", "status", "progress", "createdAt", "startedAt", "finishedAt", "createdBy",
    "scope", "warnings", "error", "snapshotId", "summary", "compareTo",
}  # fmt: skip


@pytest.fixture
def reader(tokens: dict[Role, str]) -> dict[str, str]:
    return bearer(tokens[Role.READER])


@pytest.fixture
def operator(tokens: dict[Role, str]) -> dict[str, str]:
    return bearer(tokens[Role.OPERATOR])


async def _start(client: httpx.AsyncClient, operator: dict[str, str], **body: object) -> dict:  # type: ignore[type-arg]
    response = await client.post(REPORTS, json=body, headers=operator)
    assert response.status_code == 202, response.text
    job: dict = response.json()  # type: ignore[type-arg]
    return job


async def test_starting_a_report_queues_its_task_with_the_validated_scope(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str], reader: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    scope = {"types": ["group"], "objects": [{"type": "user", "ids": [USER.upper(), USER]}]}
    response = await client.post(
        REPORTS, json={"snapshotId": "s1", "scope": scope}, headers=operator
    )

    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["Location"] == f"/v1/tenants/{TENANT}/jobs/{job['id']}"
    assert job["kind"] == "differenceReport"
    assert job["status"] == "Queued"
    assert job["snapshotId"] == "s1"
    normalized = {"types": ["group"], "objects": [{"type": "user", "ids": [USER]}]}
    assert job["scope"] == normalized
    tasks = await queued_tasks(state.redis, Queue.DIFFS.value)
    assert [task.name for task in tasks] == [TaskName.DIFFERENCE_REPORT.value]
    payload = DifferenceReportPayload.model_validate(tasks[0].args[0])
    assert payload == DifferenceReportPayload(
        job_id=job["id"], tenant_id=TENANT, snapshot_id="s1", compare_to=None, scope=normalized
    )
    shown = await client.get(f"{REPORTS}/{job['id']}", headers=reader)
    assert shown.status_code == 200
    assert set(shown.json()) >= JOB_FIELDS
    assert shown.json()["complete"] is False


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ({"types": ["device"]}, "unknown object type 'device'"),
        ({"types": []}, "non-empty list"),
        ({"objects": [{"type": "user", "ids": ["not-a-guid"]}]}, "is not a valid user id"),
        ({"objects": [{"type": "user", "ids": []}]}, "non-empty list of object ids"),
        ({}, "names no types and no objects"),
    ],
)
async def test_an_invalid_scope_is_a_400_naming_the_problem(
    client: httpx.AsyncClient,
    state: AppState,
    operator: dict[str, str],
    scope: dict,  # type: ignore[type-arg]
    message: str,
) -> None:
    await store_snapshot(state.snapshots, "s1")
    response = await client.post(
        REPORTS, json={"snapshotId": "s1", "scope": scope}, headers=operator
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalidScope"
    assert message in response.json()["error"]["message"]
    assert await queued_tasks(state.redis, Queue.DIFFS.value) == []


async def test_snapshots_must_be_the_tenants_and_distinct(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    await store_snapshot(state.snapshots, "theirs", tenant_id=OTHER_TENANT)

    unknown = await client.post(REPORTS, json={"snapshotId": "nope"}, headers=operator)
    other = await client.post(REPORTS, json={"snapshotId": "theirs"}, headers=operator)
    same = await client.post(
        REPORTS, json={"snapshotId": "s1", "compareTo": "s1"}, headers=operator
    )
    missing = await client.post(
        REPORTS, json={"snapshotId": "s1", "compareTo": "theirs"}, headers=operator
    )

    assert unknown.status_code == 404
    assert other.status_code == 404
    assert same.status_code == 400
    assert "another snapshot" in same.json()["error"]["message"]
    assert missing.status_code == 404
    assert await queued_tasks(state.redis, Queue.DIFFS.value) == []


async def test_a_report_between_snapshots_names_both(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    await store_snapshot(state.snapshots, "s2")
    job = await _start(client, operator, snapshotId="s1", compareTo="s2")
    assert job["compareTo"] == "s2"
    tasks = await queued_tasks(state.redis, Queue.DIFFS.value)
    assert DifferenceReportPayload.model_validate(tasks[0].args[0]).compare_to == "s2"


async def test_roles_and_idempotency(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str], reader: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    forbidden = await client.post(REPORTS, json={"snapshotId": "s1"}, headers=reader)
    assert forbidden.status_code == 403
    anonymous = await client.get(REPORTS)
    assert anonymous.status_code == 401

    headers = {**operator, "Idempotency-Key": "incident-42"}
    first = await client.post(REPORTS, json={"snapshotId": "s1"}, headers=headers)
    again = await client.post(REPORTS, json={"snapshotId": "s1"}, headers=headers)
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(await queued_tasks(state.redis, Queue.DIFFS.value)) == 1


def _change(type_name: str, object_id: str, kind: ChangeKind) -> Change:
    properties: tuple[PropertyChange, ...] = ()
    links = {}
    if kind is ChangeKind.UPDATED:
        properties = (PropertyChange("jobTitle", "Engineer", "Compromised"),)
    if kind is ChangeKind.LINKS_CHANGED:
        links = {"members": LinkChange(added=(), removed=(USER,))}
    return Change(
        type=type_name,
        object_id=object_id,
        display_name=f"{type_name} {object_id[:4]}",
        change=kind,
        action=ACTION_FOR[kind],
        properties=properties,
        links=links,
        recoverable=kind is not ChangeKind.HARD_DELETED,
        reason=None if kind is not ChangeKind.HARD_DELETED else "synced from on-premises",
    )


async def test_reports_are_listed_with_their_summary_and_changes_page_by_filter(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str], reader: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    older = await _start(client, operator, snapshotId="s1")
    job = await _start(client, operator, snapshotId="s1")
    reports = ReportStore(state.mongo)
    await reports.start(ReportRecord(job["id"], TENANT, "s1", None, None, created_at=utcnow()))
    users = [f"{i:08x}-0000-4000-8000-000000000000" for i in range(5)]
    changes = [_change("user", u, ChangeKind.UPDATED) for u in users]
    changes += [
        _change("group", USER, ChangeKind.LINKS_CHANGED),
        _change("group", users[0], ChangeKind.HARD_DELETED),
    ]
    await reports.put_changes(job["id"], list(reversed(changes)))
    summary, _ = await reports.summarize(job["id"])
    await reports.complete(job["id"], summary=summary, completed_at=utcnow())

    listed = await client.get(REPORTS, headers=reader)
    assert [r["id"] for r in listed.json()["items"]] == [job["id"], older["id"]]
    shown = (await client.get(f"{REPORTS}/{job['id']}", headers=reader)).json()
    assert shown["complete"] is True
    assert shown["summary"] == {
        "user": {"updated": 5},
        "group": {"hardDeleted": 1, "linksChanged": 1},
    }

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, "type": "user"}
        if cursor:
            params["cursor"] = cursor
        page = (
            await client.get(f"{REPORTS}/{job['id']}/changes", params=params, headers=reader)
        ).json()
        seen += [c["objectId"] for c in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == users
    groups = (
        await client.get(
            f"{REPORTS}/{job['id']}/changes", params={"change": "hardDeleted"}, headers=reader
        )
    ).json()["items"]
    assert [(c["type"], c["change"], c["action"]) for c in groups] == [
        ("group", "hardDeleted", "recreate")
    ]
    assert groups[0]["recoverable"] is False
    assert groups[0]["reason"] == "synced from on-premises"
    first = (
        await client.get(f"{REPORTS}/{job['id']}/changes", params={"limit": 1}, headers=reader)
    ).json()["items"][0]
    assert first["properties"] == [
        {
            "path": "jobTitle", "backup": "Engineer", "current": "Compromised",
            "recoverable": True, "reason": None, "added": None, "removed": None,
        }
    ]  # fmt: skip


async def test_changes_reject_unknown_filters_and_reports(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str], reader: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    job = await _start(client, operator, snapshotId="s1")
    bad_type = await client.get(
        f"{REPORTS}/{job['id']}/changes", params={"type": "device"}, headers=reader
    )
    bad_kind = await client.get(
        f"{REPORTS}/{job['id']}/changes", params={"change": "renamed"}, headers=reader
    )
    unknown = await client.get(f"{REPORTS}/nope/changes", headers=reader)
    snapshot_job = await client.get(f"{REPORTS}/nope", headers=reader)
    assert bad_type.status_code == 400
    assert "unknown object type 'device'" in bad_type.json()["error"]["message"]
    assert bad_kind.status_code == 400
    assert unknown.status_code == 404
    assert snapshot_job.status_code == 404
