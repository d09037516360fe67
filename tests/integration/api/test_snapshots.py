"""Snapshots: starting one (task, idempotency, validation), reading and browsing them,
a recovery's pre-recovery snapshot among them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from rewind_api.state import AppState
from rewind_common.domain.records import ObjectState
from rewind_common.storage.pre_recovery import PreRecoverySnapshots
from rewind_common.storage.tokens import Role
from rewind_common.tasks import Queue, SnapshotPayload, TaskName, VerifyPayload
from tests.integration.api.support import (
    OTHER_TENANT,
    TENANT,
    bearer,
    queued_tasks,
    store_snapshot,
)

SNAPSHOTS = f"/v1/tenants/{TENANT}/snapshots"
JOB_FIELDS = {
    "id", "kind", "status", "progress", "createdAt", "startedAt", "finishedAt", "createdBy",
    "scope", "warnings", "error", "snapshotId",
}  # fmt: skip
SNAPSHOT_FIELDS = {
    "id", "tenantId", "createdAt", "mode", "status", "counts", "newVersions", "storedBytes",
    "merkleRoot", "previousRoot", "legalHold", "expiresAt", "unreadTypes",
    "unreadDeletedItems",
}  # fmt: skip


@pytest.fixture
def reader(tokens: dict[Role, str]) -> dict[str, str]:
    return bearer(tokens[Role.READER])


@pytest.fixture
def operator(tokens: dict[Role, str]) -> dict[str, str]:
    return bearer(tokens[Role.OPERATOR])


async def test_creating_a_snapshot_queues_its_task_and_answers_202(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    response = await client.post(SNAPSHOTS, json={"mode": "full"}, headers=operator)
    assert response.status_code == 202
    job = response.json()
    assert set(job) >= JOB_FIELDS
    assert response.headers["Location"] == f"/v1/tenants/{TENANT}/jobs/{job['id']}"
    assert job["kind"] == "snapshot"
    assert job["status"] == "Queued"
    assert job["createdBy"] == "operator-token"
    assert job["progress"] == {"done": 0, "total": 0}
    assert job["snapshotId"]

    tasks = await queued_tasks(state.redis, Queue.SNAPSHOTS.value)
    assert [task.name for task in tasks] == [TaskName.SNAPSHOT.value]
    payload = SnapshotPayload.model_validate(tasks[0].args[0])
    assert payload == SnapshotPayload(
        job_id=job["id"], tenant_id=TENANT, snapshot_id=job["snapshotId"], mode="full"
    )
    stored = await client.get(response.headers["Location"], headers=operator)
    assert stored.json()["snapshotId"] == job["snapshotId"]


async def test_the_body_is_optional_and_the_worker_chooses_the_mode(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    response = await client.post(SNAPSHOTS, headers=operator)
    assert response.status_code == 202
    tasks = await queued_tasks(state.redis, Queue.SNAPSHOTS.value)
    assert SnapshotPayload.model_validate(tasks[0].args[0]).mode is None


async def test_an_idempotency_key_returns_the_same_job_for_the_same_body(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    headers = {**operator, "Idempotency-Key": "nightly-2026-01-01"}
    first = await client.post(SNAPSHOTS, json={"mode": "incremental"}, headers=headers)
    again = await client.post(SNAPSHOTS, json={"mode": "incremental"}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(await queued_tasks(state.redis, Queue.SNAPSHOTS.value)) == 1

    other = await client.post(SNAPSHOTS, json={"mode": "full"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "conflict"
    # the key is per tenant
    elsewhere = await client.post(
        f"/v1/tenants/{OTHER_TENANT}/snapshots", json={"mode": "incremental"}, headers=headers
    )
    assert elsewhere.status_code == 202
    assert elsewhere.json()["id"] != first.json()["id"]


async def test_invalid_bodies_are_400_with_a_message_naming_the_field(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    response = await client.post(SNAPSHOTS, json={"mode": "weekly"}, headers=operator)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalidRequest"
    assert "body.mode" in error["message"]
    assert "'full' or 'incremental'" in error["message"]
    assert set(response.json()) == {"error"}

    unknown = await client.post(SNAPSHOTS, json={"mood": "full"}, headers=operator)
    assert unknown.status_code == 400
    assert "body.mood: is not a known field" in unknown.json()["error"]["message"]

    broken = await client.post(
        SNAPSHOTS,
        content=b"{not json",
        headers={**operator, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json()["error"]["message"]

    bad_key = await client.post(SNAPSHOTS, headers={**operator, "Idempotency-Key": "a b"})
    assert bad_key.status_code == 400
    assert "Idempotency-Key" in bad_key.json()["error"]["message"]


async def test_tenants_must_be_configured_guids(
    client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    malformed = await client.get("/v1/tenants/contoso/snapshots", headers=reader)
    assert malformed.status_code == 400
    assert "GUID" in malformed.json()["error"]["message"]
    unknown = await client.get(
        "/v1/tenants/33333333-3333-4333-8333-333333333333/snapshots", headers=reader
    )
    assert unknown.status_code == 404
    upper = await client.get(f"/v1/tenants/{TENANT.upper()}", headers=reader)
    assert upper.status_code == 200
    assert upper.json()["tenantId"] == TENANT


async def test_tenants_are_listed_without_secrets(
    client: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    response = await client.get("/v1/tenants", headers=reader)
    assert response.status_code == 200
    assert [t["tenantId"] for t in response.json()["items"]] == [TENANT, OTHER_TENANT]
    assert response.json()["next"] is None
    assert "graph-secret-value" not in response.text
    assert "staticToken" in response.text  # the kind of credential, not its value


async def test_snapshots_are_listed_newest_first_with_hold_and_expiry(
    client: httpx.AsyncClient, state: AppState, reader: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    for index in range(3):
        await store_snapshot(
            state.snapshots, f"0000000{index}-snap", created_at=now - timedelta(days=3 - index)
        )
    await store_snapshot(state.snapshots, "other-snap", tenant_id=OTHER_TENANT)

    first = await client.get(SNAPSHOTS, params={"limit": 2}, headers=reader)
    assert first.status_code == 200
    page = first.json()
    assert [s["id"] for s in page["items"]] == ["00000002-snap", "00000001-snap"]
    assert page["next"]
    rest = await client.get(SNAPSHOTS, params={"cursor": page["next"]}, headers=reader)
    assert [s["id"] for s in rest.json()["items"]] == ["00000000-snap"]
    assert rest.json()["next"] is None

    newest, older = page["items"]
    assert set(newest) >= SNAPSHOT_FIELDS
    assert newest["counts"] == {"user": 3, "group": 1}
    assert newest["tenantId"] == TENANT
    assert newest["legalHold"] is False
    assert newest["expiresAt"] is None  # the newest snapshot never expires
    assert newest["retentionReason"] == "newest snapshot"
    assert newest["unreadTypes"] == newest["unreadDeletedItems"] == []
    assert older["expiresAt"] is not None
    assert older["retentionReason"] == "newest of its day"


async def test_legal_hold_is_placed_and_lifted_by_admins(
    client: httpx.AsyncClient, state: AppState, tokens: dict[Role, str]
) -> None:
    now = datetime.now(UTC)
    await store_snapshot(state.snapshots, "s-old", created_at=now - timedelta(days=2))
    await store_snapshot(state.snapshots, "s-new", created_at=now)
    admin = bearer(tokens[Role.ADMIN])
    hold = f"{SNAPSHOTS}/s-old/legal-hold"
    placed = await client.put(hold, json={"reason": "incident 4711"}, headers=admin)
    assert placed.status_code == 200
    assert placed.json()["legalHold"] is True
    assert placed.json()["expiresAt"] is None
    assert await state.snapshots.holds(["s-old"]) == {"s-old"}
    detail = placed.json()["legalHoldDetail"]
    assert detail["reason"] == "incident 4711"
    assert detail["placedBy"] == "admin-token"
    assert abs(datetime.fromisoformat(detail["placedAt"]) - now) < timedelta(minutes=1)

    listed = (await client.get(SNAPSHOTS, headers=admin)).json()["items"]
    details = {item["id"]: item["legalHoldDetail"] for item in listed}
    assert details == {"s-new": None, "s-old": detail}

    lifted = await client.delete(hold, headers=admin)
    assert lifted.json()["legalHold"] is False
    assert lifted.json()["legalHoldDetail"] is None
    assert lifted.json()["expiresAt"] is not None
    empty = await client.put(hold, json={"reason": ""}, headers=admin)
    assert empty.status_code == 400


async def test_unknown_snapshots_and_objects_are_404(
    client: httpx.AsyncClient, state: AppState, reader: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1", tenant_id=OTHER_TENANT)
    for path in (
        f"{SNAPSHOTS}/s1",  # exists, but in another tenant
        f"{SNAPSHOTS}/nope",
        f"{SNAPSHOTS}/nope/objects",
        f"{SNAPSHOTS}/nope/objects/user/u000",
        f"/v1/tenants/{OTHER_TENANT}/snapshots/s1/objects/user/nope",
        f"/v1/tenants/{TENANT}/nothing-here",
    ):
        response = await client.get(path, headers=reader)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "notFound"


async def test_objects_are_browsed_by_type_with_a_cursor(
    client: httpx.AsyncClient, state: AppState, reader: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1", users=5)
    objects = f"{SNAPSHOTS}/s1/objects"

    users = await client.get(objects, params={"type": "user", "limit": 2}, headers=reader)
    assert users.status_code == 200
    assert [o["objectId"] for o in users.json()["items"]] == ["u000", "u001"]
    assert users.json()["items"][0] == {
        "type": "user",
        "objectId": "u000",
        "displayName": "User 0",
        "deleted": False,
        "versionHash": users.json()["items"][0]["versionHash"],
    }
    seen = [o["objectId"] for o in users.json()["items"]]
    cursor = users.json()["next"]
    while cursor:
        page = await client.get(
            objects, params={"type": "user", "limit": 2, "cursor": cursor}, headers=reader
        )
        seen += [o["objectId"] for o in page.json()["items"]]
        cursor = page.json()["next"]
    assert seen == ["u000", "u001", "u002", "u003", "u004"]

    # without a type: every type in registry order (users before groups), across pages
    everything: list[tuple[str, str]] = []
    cursor = None
    while True:
        params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(objects, params=params, headers=reader)).json()
        everything += [(o["type"], o["objectId"]) for o in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert everything == [("user", f"u00{i}") for i in range(5)] + [("group", "g001")]

    unknown = await client.get(objects, params={"type": "printer"}, headers=reader)
    assert unknown.status_code == 400
    assert "printer" in unknown.json()["error"]["message"]
    mixed = await client.get(
        objects, params={"type": "group", "cursor": users.json()["next"]}, headers=reader
    )
    assert mixed.status_code == 400
    garbage = await client.get(objects, params={"cursor": "%%%"}, headers=reader)
    assert garbage.status_code == 400
    too_many = await client.get(objects, params={"limit": 501}, headers=reader)
    assert too_many.status_code == 400


async def test_one_object_comes_with_its_body_and_links(
    client: httpx.AsyncClient, state: AppState, reader: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    group = await client.get(f"{SNAPSHOTS}/s1/objects/group/g001", headers=reader)
    assert group.status_code == 200
    assert group.json()["body"] == {"id": "g001", "displayName": "Admins", "groupTypes": []}
    assert group.json()["links"] == {"members": ["u000", "u001"], "owners": ["u002"]}

    user = (await client.get(f"{SNAPSHOTS}/s1/objects/user/u000", headers=reader)).json()
    assert user["links"] == {"manager": "u001"}
    assert user["displayName"] == "User 0"
    deleted = (await client.get(f"{SNAPSHOTS}/s1/objects/user/u002", headers=reader)).json()
    assert deleted["deleted"] is True
    assert deleted["links"] == {"manager": None}


async def test_verify_queues_a_verify_job_for_an_existing_snapshot(
    client: httpx.AsyncClient, state: AppState, operator: dict[str, str]
) -> None:
    await store_snapshot(state.snapshots, "s1")
    response = await client.post(f"{SNAPSHOTS}/s1/verify", headers=operator)
    assert response.status_code == 202
    job = response.json()
    assert job["kind"] == "verify"
    assert job["snapshotId"] == "s1"
    tasks = await queued_tasks(state.redis, Queue.SNAPSHOTS.value)
    assert [t.name for t in tasks] == [TaskName.VERIFY.value]
    assert VerifyPayload.model_validate(tasks[0].args[0]).snapshot_id == "s1"
    missing = await client.post(f"{SNAPSHOTS}/nope/verify", headers=operator)
    assert missing.status_code == 404


async def test_a_pre_recovery_snapshot_is_read_browsed_and_verified_but_not_listed(
    client: httpx.AsyncClient,
    state: AppState,
    reader: dict[str, str],
    operator: dict[str, str],
    tokens: dict[Role, str],
) -> None:
    await store_snapshot(state.snapshots, "s1")
    user = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
    await PreRecoverySnapshots(state.mongo, state.snapshots).write(
        "pre-1",
        tenant_id=TENANT,
        recovery_id="rec-1",
        source_snapshot_id="s1",
        states=[ObjectState("user", user, {"id": user, "displayName": "Adele", "city": "Oslo"})],
        at=datetime.now(UTC),
    )

    shown = await client.get(f"{SNAPSHOTS}/pre-1", headers=reader)
    assert shown.status_code == 200, shown.text
    snapshot = shown.json()
    assert set(snapshot) >= SNAPSHOT_FIELDS
    assert snapshot["partial"] is True
    assert snapshot["mode"] == "preRecovery"
    assert (snapshot["recoveryId"], snapshot["sourceSnapshotId"]) == ("rec-1", "s1")
    assert snapshot["scope"] == {"objects": [{"type": "user", "ids": [user]}]}
    assert snapshot["counts"] == {"user": 1}
    assert snapshot["newVersions"] == 1
    assert snapshot["storedBytes"] > 0
    assert snapshot["expiresAt"] is None
    assert snapshot["retentionReason"] == "kept with its recovery"

    listed = (await client.get(SNAPSHOTS, headers=reader)).json()["items"]
    assert [item["id"] for item in listed] == ["s1"]
    assert listed[0]["partial"] is False

    objects = (await client.get(f"{SNAPSHOTS}/pre-1/objects", headers=reader)).json()
    assert [(o["type"], o["objectId"]) for o in objects["items"]] == [("user", user)]
    one = await client.get(f"{SNAPSHOTS}/pre-1/objects/user/{user}", headers=reader)
    assert one.json()["body"]["city"] == "Oslo"

    verify = await client.post(f"{SNAPSHOTS}/pre-1/verify", headers=operator)
    assert verify.status_code == 202
    assert verify.json()["snapshotId"] == "pre-1"

    hold = await client.put(
        f"{SNAPSHOTS}/pre-1/legal-hold",
        json={"reason": "audit"},
        headers=bearer(tokens[Role.ADMIN]),
    )
    assert hold.status_code == 409
    assert "kept as long as its recovery" in hold.json()["error"]["message"]
    elsewhere = await client.get(f"/v1/tenants/{OTHER_TENANT}/snapshots/pre-1", headers=reader)
    assert elsewhere.status_code == 404
