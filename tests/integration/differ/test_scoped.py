"""Reports scoped to object ids: only those objects, and a cost in Graph requests and
manifest reads that depends on the ids asked for, not on the tenant's size."""

from __future__ import annotations

from typing import Any

from rewind_common.jobs.model import JobStatus
from tests.integration.differ.support import DiffHarness

EDIT = {"jobTitle": "Compromised"}


async def _stats(differ: DiffHarness) -> dict[str, Any]:
    stats: dict[str, Any] = await differ.emulator.control("GET", "/_emulator/stats")
    return stats


async def _scoped_cost(differ: DiffHarness, users: int) -> tuple[int, int, set[str]]:
    """Graph requests (sub-requests of $batch included) and manifest chunks fetched by a
    report scoped to 10 users, 2 groups and an app role assignment, 3 of the users
    edited and the assignment created since the backup, on a tenant of ``users``
    users."""
    emulator = differ.emulator
    await emulator.generate(users=users, groups=max(6, users // 20), membersPerGroup=10)
    snapshot = await differ.snapshot()
    ids = await differ.ids("user")
    for user in ids[:3]:
        await emulator.graph_call("PATCH", f"/users/{user}", EDIT)
    groups = await differ.ids("group")
    # created after the backup: no backup names the service principal it lives under
    rogue = await emulator.graph_call(
        "POST",
        f"/users/{ids[9]}/appRoleAssignments",
        {
            "principalId": ids[9],
            "resourceId": (await differ.ids("servicePrincipal"))[0],
            "appRoleId": "00000000-0000-0000-0000-000000000000",
        },
    )
    scope = {
        "objects": [
            {"type": "user", "ids": ids[:10]},
            {"type": "group", "ids": groups[:2]},
            {"type": "appRoleAssignment", "ids": [rogue["id"]]},
        ]
    }
    await emulator.control("DELETE", "/_emulator/stats")
    store = differ.base.store
    store.chunks.forget()
    fetched = store.chunks.fetched
    report = await differ.diff(snapshot.id, scope=scope)
    assert report.job.status is JobStatus.COMPLETED, report.job.error
    stats = await _stats(differ)
    changed = {c.object_id for c in report.changes}
    return int(stats["requests"]), store.chunks.fetched - fetched, changed


async def test_a_scoped_report_costs_the_same_on_a_tenant_fifty_times_larger(
    differ: DiffHarness,
) -> None:
    small_requests, small_chunks, small_changed = await _scoped_cost(differ, 40)
    large_requests, large_chunks, large_changed = await _scoped_cost(differ, 2000)

    assert len(small_changed) == len(large_changed) == 4
    assert large_requests == small_requests
    # Each object, then each of its links, by id, 20 to a $batch (each one counted);
    # the assignment under each kind of principal its id may name.
    assert small_requests <= 3 * 12 + 6 + 3 + 1
    # Ids spread over more chunks in a larger manifest: bounded by the ids, not the size.
    assert small_chunks <= large_chunks <= 2 * 12


async def test_only_objects_in_scope_are_reported(differ: DiffHarness) -> None:
    emulator = differ.emulator
    await emulator.generate()
    snapshot = await differ.snapshot()
    users = await differ.ids("user")
    for user in users[:4]:
        await emulator.graph_call("PATCH", f"/users/{user}", EDIT)
    await emulator.graph_call("DELETE", f"/users/{users[5]}")
    absent = "0b6c1c56-2b4a-4c77-8f55-3f0a8e1f0c11"

    report = await differ.diff(
        snapshot.id,
        scope={"objects": [{"type": "user", "ids": [users[0], users[1], users[5], absent]}]},
    )

    assert report.kinds() == {
        ("user", users[0], "updated"),
        ("user", users[1], "updated"),
        ("user", users[5], "softDeleted"),
    }
    assert report.record is not None
    assert report.record.summary == {"user": {"updated": 2, "softDeleted": 1}}


async def test_a_scope_by_type_compares_every_object_of_those_types(differ: DiffHarness) -> None:
    emulator = differ.emulator
    await emulator.generate()
    snapshot = await differ.snapshot()
    users = await differ.ids("user")
    apps = await differ.ids("application")
    await emulator.graph_call("PATCH", f"/users/{users[0]}", EDIT)
    await emulator.graph_call("PATCH", f"/applications/{apps[0]}", {"notes": "changed"})

    report = await differ.diff(snapshot.id, scope={"types": ["application"]})

    assert report.kinds() == {("application", apps[0], "updated")}
