"""Incremental snapshots: delta where Graph offers it, whole reads elsewhere, and still a
complete point-in-time view each time."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from rewind_common.jobs.model import JobStatus
from rewind_common.registry import ALL_TYPES
from rewind_common.storage.manifest import Segment
from rewind_common.storage.mongo import Collection
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.storage.staging import LINKS
from rewind_snapshotter.snapshot import records
from tests.integration.snapshotter.support import (
    Harness,
    assert_matches_state,
    snapshot_contents,
)

READ_WHOLE = {t.name for t in ALL_TYPES if not t.tracks_changes}


async def _ids(harness: Harness, type_name: str) -> list[str]:
    state = await harness.emulator.state()
    return [body["id"] for body in state["types"][type_name]["active"]]


PA = "conditionalAccessPolicy"


async def _content(harness: Harness, chain: list[Segment]) -> dict[str, Any]:
    """What a manifest says of each object, volatile properties aside."""
    return {
        object_type.name: [
            (e.object_id, e.version, e.deleted, e.display_name, dict(e.links))
            async for e in harness.store.manifests.iterate_type(chain, object_type.name)
        ]
        for object_type in ALL_TYPES
    }


async def _matches(harness: Harness, snapshot_id: str) -> None:
    record = await harness.store.find(snapshot_id)
    assert record is not None
    contents = await snapshot_contents(harness, record)
    assert_matches_state(contents, await harness.emulator.state(), registry_select=True)


async def test_an_unchanged_tenant_stores_no_new_version(harness: Harness) -> None:
    await harness.emulator.generate()
    _, first = await harness.snapshot()
    assert first is not None
    assert first.mode == "full"

    job, second = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED, job.error
    assert second is not None
    assert second.mode == "incremental"
    assert second.new_versions == 0
    assert second.previous_snapshot_id == first.id
    assert second.previous_root == first.merkle_root
    assert second.counts == first.counts
    assert second.manifest_root == first.manifest_root
    assert [s.id for s in second.chain] == [first.id, second.id]
    await _matches(harness, second.id)


async def test_one_percent_of_users_changed_stores_one_percent_of_versions(
    harness: Harness,
) -> None:
    await harness.emulator.generate(users=400, groups=4, membersPerGroup=10)
    _, first = await harness.snapshot()
    assert first is not None
    users = await _ids(harness, "user")
    for user_id in users[:4]:
        await harness.emulator.graph_call("PATCH", f"/users/{user_id}", {"jobTitle": "Changed"})

    _, second = await harness.snapshot()

    assert second is not None
    assert second.new_versions == 4
    assert second.stored_bytes < first.stored_bytes * 0.05
    await _matches(harness, second.id)


async def test_sealing_asks_staging_only_about_the_types_that_changed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that planned the snapshot made every staging write it has: a type it
    staged nothing of is sealed without a query. A step resumed from a checkpoint
    cannot know what an earlier, lost step staged, and asks about every type."""
    await harness.emulator.generate(users=100, groups=4, membersPerGroup=10)
    _, first = await harness.snapshot()
    assert first is not None
    users = await _ids(harness, "user")
    asked: Counter[str] = Counter()
    buckets = harness.store.staging.buckets

    async def counting(segment: str, type_name: str, attempt: int) -> list[str]:
        asked[type_name] += 1
        return await buckets(segment, type_name, attempt)

    monkeypatch.setattr(harness.store.staging, "buckets", counting)
    await harness.emulator.graph_call("PATCH", f"/users/{users[0]}", {"jobTitle": "Changed"})

    job, second = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED, job.error
    assert second is not None
    # types read whole stage every object; those read as changes, only what changed
    assert set(asked) == {"user", *READ_WHOLE}
    await _matches(harness, second.id)

    asked.clear()
    await harness.emulator.graph_call("PATCH", f"/users/{users[1]}", {"jobTitle": "Changed"})
    job, third = await harness.snapshot(step_seconds=0.001)  # every step resumes

    assert job.status is JobStatus.COMPLETED, job.error
    assert third is not None
    assert third.new_versions == 1
    assert len(asked) > 1
    await _matches(harness, third.id)


@pytest.mark.parametrize("compared", ["as read", "at sealing"])
async def test_a_password_reset_is_kept_without_a_new_version(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, compared: str
) -> None:
    """A reset changes only the user's lastPasswordChangeDateTime, a volatile property:
    no new version is stored, and yet each snapshot shows the time as Graph returned it
    then (an investigation asks when a password was last changed)."""
    if compared == "at sealing":
        monkeypatch.setattr(records, "DEDUP_FETCH_LIMIT", -1)
    await harness.emulator.generate(users=40, groups=2, membersPerGroup=3)
    user = (await _ids(harness, "user"))[0]
    _, first = await harness.snapshot()
    assert first is not None

    await harness.emulator.graph_call(
        "PATCH", f"/users/{user}", {"passwordProfile": {"password": "Reset-2026-n0w!"}}
    )
    job, second = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED, job.error
    assert second is not None
    assert second.mode == "incremental"
    assert second.new_versions == 0
    was = (await harness.reader.get(first, "user", [user]))[user]
    now = (await harness.reader.get(second, "user", [user]))[user]
    assert now.body == was.body
    changed = now.volatile["lastPasswordChangeDateTime"]
    assert changed > (was.volatile.get("lastPasswordChangeDateTime") or "")
    await _matches(harness, second.id)
    assert (await harness.verify(second.id)).status is JobStatus.COMPLETED


@pytest.mark.parametrize("compared", ["as read", "at sealing"])
async def test_content_changed_back_is_not_stored_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, compared: str
) -> None:
    """An attribute overwritten and then put back, a member removed and added again (an
    incident and its recovery): the last snapshot finds both in the chain's earlier
    segments and references them where they are, whether pages are compared with the
    previous snapshot as they are read or, scattered over its chunks, when sealed."""
    if compared == "at sealing":
        monkeypatch.setattr(records, "DEDUP_FETCH_LIMIT", -1)
    emulator = harness.emulator
    await emulator.generate(users=60, groups=3, membersPerGroup=5)
    users = await _ids(harness, "user")
    groups = await _ids(harness, "group")
    state: dict[str, Any] = await emulator.state()
    user = users[0]
    title = next(b for b in state["types"]["user"]["active"] if b["id"] == user).get("jobTitle")
    member = state["links"]["group"][groups[0]]["members"][0]
    member_url = f"https://graph.microsoft.com/v1.0/directoryObjects/{member}"
    policy = state["types"]["conditionalAccessPolicy"]["active"][0]
    policy_path = f"/identity/conditionalAccess/policies/{policy['id']}"
    _, first = await harness.snapshot()
    assert first is not None

    await emulator.graph_call("PATCH", f"/users/{user}", {"jobTitle": "Overwritten"})
    await emulator.graph_call("DELETE", f"/groups/{groups[0]}/members/{member}/$ref")
    await emulator.graph_call("PATCH", policy_path, {"displayName": "Overwritten"})
    _, second = await harness.snapshot()
    assert second is not None
    assert second.new_versions == 2

    await emulator.graph_call("PATCH", f"/users/{user}", {"jobTitle": title})
    await emulator.graph_call("PATCH", policy_path, {"displayName": policy["displayName"]})
    await emulator.graph_call(
        "POST", f"/groups/{groups[0]}/members/$ref", {"@odata.id": member_url}
    )
    job, third = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED, job.error
    assert third is not None
    assert third.mode == "incremental"
    assert third.new_versions == 0
    # The content of the first snapshot again; only the policy's modifiedDateTime, kept
    # beside its body, tells the policy was written since.
    assert await _content(harness, third.chain) == await _content(harness, first.chain)
    was = await harness.store.manifests.get_entries(first.chain, PA, [policy["id"]])
    now = await harness.store.manifests.get_entries(third.chain, PA, [policy["id"]])
    assert now[policy["id"]].volatile["modifiedDateTime"] > (
        was[policy["id"]].volatile.get("modifiedDateTime") or ""
    )
    original = await harness.store.manifests.get_entries(first.chain, "user", [user])
    restored = await harness.store.manifests.get_entries(third.chain, "user", [user])
    assert restored[user].version == original[user].version
    assert restored[user].pack == original[user].pack
    original_group = await harness.store.manifests.get_entries(first.chain, "group", [groups[0]])
    restored_group = await harness.store.manifests.get_entries(third.chain, "group", [groups[0]])
    assert restored_group[groups[0]].link_packs == original_group[groups[0]].link_packs
    await _matches(harness, third.id)


async def test_an_incremental_snapshot_reads_each_manifest_chunk_once(harness: Harness) -> None:
    """It looks up the objects it read, looks them up again to seal them and hashes the
    whole manifest: kept chunks are read from the server once, not three times."""
    harness.store = SnapshotStore(harness.mongo, chunk_cache_bytes=48 * 1024 * 1024)
    await harness.emulator.generate(users=1500, groups=3, membersPerGroup=5)
    _, first = await harness.snapshot()
    assert first is not None
    users = await _ids(harness, "user")
    for user_id in users[::100]:  # spread over every chunk of users
        await harness.emulator.graph_call("PATCH", f"/users/{user_id}", {"jobTitle": "Moved"})
    fetched = harness.store.chunks.fetched

    _, second = await harness.snapshot()

    assert second is not None
    assert second.mode == "incremental"
    assert second.new_versions == 15
    chunks = await harness.mongo.collection(Collection.MANIFEST).count_documents(
        {"seg": {"$in": [first.id, second.id]}}
    )
    assert harness.store.chunks.fetched - fetched <= chunks
    await _matches(harness, second.id)


async def test_deletes_restores_purges_and_link_changes_are_captured(
    harness: Harness,
) -> None:
    emulator = harness.emulator
    await emulator.generate()
    users = await _ids(harness, "user")
    groups = await _ids(harness, "group")
    apps = await _ids(harness, "application")
    await emulator.graph_call("DELETE", f"/users/{users[0]}")  # restored later
    await emulator.graph_call("DELETE", f"/users/{users[1]}")  # purged later
    _, first = await harness.snapshot()
    assert first is not None

    await emulator.graph_call("POST", f"/directory/deletedItems/{users[0]}/restore")
    await emulator.graph_call("DELETE", f"/directory/deletedItems/{users[1]}")
    await emulator.graph_call("DELETE", f"/users/{users[2]}")
    member = f"https://graph.microsoft.com/v1.0/directoryObjects/{users[3]}"
    await emulator.graph_call("POST", f"/groups/{groups[0]}/members/$ref", {"@odata.id": member})
    state: dict[str, Any] = await emulator.state()
    removed = state["links"]["group"][groups[1]]["members"][0]
    await emulator.graph_call("DELETE", f"/groups/{groups[1]}/members/{removed}/$ref")
    manager = f"https://graph.microsoft.com/v1.0/users/{users[5]}"
    await emulator.graph_call("PUT", f"/users/{users[4]}/manager/$ref", {"@odata.id": manager})
    owner = f"https://graph.microsoft.com/v1.0/directoryObjects/{users[6]}"
    await emulator.graph_call("POST", f"/applications/{apps[0]}/owners/$ref", {"@odata.id": owner})
    await emulator.graph_call(
        "POST",
        "/users",
        {
            "accountEnabled": True,
            "displayName": "New Hire",
            "mailNickname": "new.hire",
            "userPrincipalName": "new.hire@contoso.com",
            "passwordProfile": {"password": "Secret-123456", "forceChangePasswordNextSignIn": True},
        },
    )

    job, second = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED, job.error
    assert second is not None
    assert second.mode == "incremental"
    assert "user" not in second.chain[-1].full_types
    await _matches(harness, second.id)
    assert second.deleted_counts.get("user") == 1
    assert second.counts["user"] == first.counts["user"]  # one purged, one created

    # The incremental snapshot hashed and counted its manifest from the leaves and
    # counts stored beside the unchanged entries: a full snapshot of the same tenant,
    # which hashes every entry it writes, comes to the same, and verify (which rebuilds
    # every leaf) agrees with the recorded root.
    _, full = await harness.snapshot("full")
    assert full is not None
    assert full.mode == "full"
    assert second.manifest_root == full.manifest_root
    assert second.counts == full.counts
    assert second.deleted_counts == full.deleted_counts
    assert second.link_counts == full.link_counts
    verified = await harness.verify(second.id)
    assert verified.status is JobStatus.COMPLETED, verified.error


async def test_only_owners_that_changed_are_staged_for_sealing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Graph's delta does not track the owners of applications and service principals,
    so each incremental snapshot lists them all again: only the sets that differ from
    the previous snapshot's are staged and sealed, and the snapshot still holds every
    owner, the added one and the emptied set included. A full snapshot after it, which
    builds every entry afresh, stages them all and comes to the same manifest."""
    emulator = harness.emulator
    await emulator.generate()
    users = await _ids(harness, "user")
    apps = await _ids(harness, "application")
    state: dict[str, Any] = await emulator.state()
    owned = next(
        sp_id for sp_id, links in state["links"]["servicePrincipal"].items() if links.get("owners")
    )
    _, first = await harness.snapshot()
    assert first is not None

    owner = f"https://graph.microsoft.com/v1.0/directoryObjects/{users[-1]}"
    await emulator.graph_call("POST", f"/applications/{apps[0]}/owners/$ref", {"@odata.id": owner})
    for removed in state["links"]["servicePrincipal"][owned]["owners"]:
        await emulator.graph_call("DELETE", f"/servicePrincipals/{owned}/owners/{removed}/$ref")
    staged: Counter[str] = Counter()
    write = harness.store.staging.write

    async def counting(
        segment: str, type_name: str, attempt: int, revision: int, batch: Any
    ) -> None:
        batch = list(batch)
        staged[type_name] += sum(1 for record in batch if record["k"] == LINKS)
        await write(segment, type_name, attempt, revision, batch)

    monkeypatch.setattr(harness.store.staging, "write", counting)
    job, second = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED, job.error
    assert second is not None
    assert second.mode == "incremental"
    assert staged == Counter(application=1, servicePrincipal=1)
    removed_count = len(state["links"]["servicePrincipal"][owned]["owners"])
    assert second.link_counts["owners"] == first.link_counts["owners"] + 1 - removed_count
    await _matches(harness, second.id)

    staged.clear()
    _, full = await harness.snapshot("full")
    assert full is not None
    assert staged["application"] == len(apps)
    assert full.manifest_root == second.manifest_root


async def test_an_expired_delta_link_reads_the_type_in_full(harness: Harness) -> None:
    await harness.emulator.generate()
    await harness.snapshot()
    # Every delta link of the last snapshot is now past its lifetime (seven days on
    # Graph): answered 400 syncStateNotFound.
    await harness.emulator.control("PUT", "/_emulator/config", {"deltaTokenLifetimeSeconds": 0})
    users = await _ids(harness, "user")
    await harness.emulator.graph_call("PATCH", f"/users/{users[0]}", {"city": "Oslo"})

    job, record = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED, job.error
    assert record is not None
    assert record.mode == "incremental"
    assert {"user", "group", "oAuth2PermissionGrant"} <= record.chain[-1].full_types
    assert record.new_versions == 1
    await _matches(harness, record.id)


async def test_a_long_chain_starts_again_with_a_full_snapshot(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(update={"incremental_chain_max": 2})
    await harness.emulator.generate()
    modes = []
    for _ in range(3):
        _, record = await harness.snapshot()
        assert record is not None
        modes.append((record.mode, len(record.chain)))
    assert modes == [("full", 1), ("incremental", 2), ("full", 1)]


async def _assignable(harness: Harness) -> tuple[str, str, list[str]]:
    """A resource service principal with a role users may hold, that role, and the
    users holding no assignment of that resource."""
    state = await harness.emulator.state()
    assigned: dict[str, set[str]] = {}
    for body in state["types"]["appRoleAssignment"]["active"]:
        assigned.setdefault(body["resourceId"], set()).add(body["principalId"])
    users = [body["id"] for body in state["types"]["user"]["active"]]
    for sp in state["types"]["servicePrincipal"]["active"]:
        for role in sp.get("appRoles") or []:
            if "User" in role["allowedMemberTypes"]:
                free = [u for u in users if u not in assigned.get(sp["id"], set())]
                return sp["id"], role["id"], free
    raise AssertionError("the generated tenant has no role users may hold")


async def test_app_role_assignments_come_from_delta(harness: Harness) -> None:
    emulator = harness.emulator
    await emulator.generate()
    _, first = await harness.snapshot()
    assert first is not None
    existing = (await emulator.state())["types"]["appRoleAssignment"]["active"]
    by_user = [a for a in existing if a["principalType"] == "User"]
    assert len(by_user) >= 3
    resource, role, free = await _assignable(harness)
    assigned_to = f"/servicePrincipals/{resource}/appRoleAssignedTo"

    def grant(user: str) -> dict[str, str]:
        return {"principalId": user, "resourceId": resource, "appRoleId": role}

    added = await emulator.graph_call("POST", assigned_to, grant(free[0]))
    fleeting = await emulator.graph_call("POST", assigned_to, grant(free[1]))
    await emulator.graph_call("DELETE", f"{assigned_to}/{fleeting['id']}")
    removed, hidden, purged = by_user[0], by_user[1], by_user[2]
    await emulator.graph_call(
        "DELETE", f"/servicePrincipals/{removed['resourceId']}/appRoleAssignedTo/{removed['id']}"
    )
    await emulator.graph_call("DELETE", f"/users/{hidden['principalId']}")
    if purged["principalId"] != hidden["principalId"]:
        await emulator.graph_call("DELETE", f"/users/{purged['principalId']}")
        await emulator.graph_call("DELETE", f"/directory/deletedItems/{purged['principalId']}")
    await emulator.control("DELETE", "/_emulator/stats")

    job, second = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED, job.error
    assert second is not None
    assert second.mode == "incremental"
    assert "appRoleAssignment" not in second.chain[-1].full_types
    routes = (await emulator.control("GET", "/_emulator/stats"))["byRoute"]
    assert "GET /servicePrincipals/{id}/appRoleAssignedTo" not in routes
    assert routes["GET /directoryObjects/delta"] >= 1
    live = set(await _ids(harness, "appRoleAssignment"))
    assert added["id"] in live
    assert not {fleeting["id"], removed["id"], hidden["id"], purged["id"]} & live
    contents = await snapshot_contents(harness, second)
    assert set(contents["appRoleAssignment"]) == live
    await _matches(harness, second.id)

    # The principal back from the recycle bin brings its assignment back.
    await emulator.graph_call("POST", f"/directory/deletedItems/{hidden['principalId']}/restore")
    _, third = await harness.snapshot()
    assert third is not None
    contents = await snapshot_contents(harness, third)
    assert hidden["id"] in contents["appRoleAssignment"]
    assert set(contents["appRoleAssignment"]) == set(await _ids(harness, "appRoleAssignment"))
    await _matches(harness, third.id)


async def test_an_expired_assignment_link_reads_every_service_principal(
    harness: Harness,
) -> None:
    await harness.emulator.generate()
    await harness.snapshot()
    await harness.emulator.control("POST", "/_emulator/reset")
    await harness.emulator.generate()
    await harness.emulator.control("DELETE", "/_emulator/stats")

    job, record = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED, job.error
    assert record is not None
    assert "appRoleAssignment" in record.chain[-1].full_types
    routes = (await harness.emulator.control("GET", "/_emulator/stats"))["byRoute"]
    service_principals = len(await _ids(harness, "servicePrincipal"))
    assert routes["GET /servicePrincipals/{id}/appRoleAssignedTo"] == service_principals
    await _matches(harness, record.id)
    # Tracking starts again from before that read.
    _, after = await harness.snapshot()
    assert after is not None
    assert "appRoleAssignment" not in after.chain[-1].full_types


async def test_assignments_are_listed_where_their_delta_is_forbidden(harness: Harness) -> None:
    emulator = harness.emulator
    await emulator.generate()
    await emulator.fault("GET", r"/directoryObjects/delta", 403)
    job, first = await harness.snapshot()
    assert job.status is JobStatus.COMPLETED, job.error
    assert first is not None
    assert "appRoleAssignment" not in first.delta_links
    assert "appRoleAssignment" not in first.unread_types
    await _matches(harness, first.id)
    await emulator.clear_faults()
    _, second = await harness.snapshot()
    assert second is not None
    assert "appRoleAssignment" in second.chain[-1].full_types  # no link: listed again
    assert "appRoleAssignment" in second.delta_links
    # Permission withdrawn after tracking began: listed again, not left unread.
    await emulator.fault("GET", r"/directoryObjects/delta", 403)
    job, third = await harness.snapshot()
    assert job.status is JobStatus.COMPLETED, job.error
    assert third is not None
    assert "appRoleAssignment" in third.chain[-1].full_types
    assert "appRoleAssignment" not in third.unread_types
    await _matches(harness, third.id)
