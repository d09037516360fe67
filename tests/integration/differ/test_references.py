"""References a recovery would write: checked against the live tenant (by id and by
alternate key) and the backup, within the report's scope."""

from __future__ import annotations

from rewind_common.registry import get_type
from rewind_differ.resolver import GraphExistence
from tests.integration.differ.support import DiffHarness

MISSING = "0b6c1c56-2b4a-4c77-8f55-3f0a8e1f0c11"


async def test_existence_is_read_by_id_and_by_app_id(differ: DiffHarness) -> None:
    await differ.emulator.generate()
    state = await differ.emulator.state()
    group = state["types"]["group"]["active"][0]["id"]
    app_id = state["types"]["servicePrincipal"]["active"][0]["appId"]
    queries = {
        ("group", "id", group),
        ("group", "id", MISSING),
        ("servicePrincipal", "appId", app_id),
        ("servicePrincipal", "appId", MISSING),
        ("authorizationPolicy", "id", "authorizationPolicy"),
    }
    async with differ.emulator.graph() as graph:
        found = await GraphExistence(graph, concurrency=2)(queries)
    assert found == {("group", "id", group), ("servicePrincipal", "appId", app_id)}


async def _excluded_group_deleted(differ: DiffHarness) -> tuple[str, str, str]:
    """A CA policy excludes a security group; after the backup the group is deleted for
    good and the exclusion removed."""
    emulator = differ.emulator
    await emulator.generate()
    state = await emulator.state()
    policy = state["types"]["conditionalAccessPolicy"]["active"][0]
    group = next(
        g["id"]
        for g in state["types"]["group"]["active"]
        if "Unified" not in (g.get("groupTypes") or [])
    )
    path = f"/identity/conditionalAccess/policies/{policy['id']}"
    conditions = policy["conditions"]
    conditions["users"]["excludeGroups"] = [group]
    await emulator.graph_call("PATCH", path, {"conditions": conditions})
    snapshot = await differ.snapshot()
    conditions["users"]["excludeGroups"] = []
    await emulator.graph_call("PATCH", path, {"conditions": conditions})
    await emulator.graph_call("DELETE", f"/groups/{group}")
    return snapshot.id, policy["id"], group


async def test_an_exclusion_of_a_group_the_recovery_recreates_is_recoverable(
    differ: DiffHarness,
) -> None:
    snapshot, policy, group = await _excluded_group_deleted(differ)

    report = await differ.diff(snapshot)

    changes = report.by_key()
    assert changes[("group", group)].change.value == "hardDeleted"
    excluded = changes[("conditionalAccessPolicy", policy)].property_at(
        "conditions.users.excludeGroups"
    )
    assert excluded.recoverable


async def test_an_exclusion_of_a_group_outside_the_scope_is_not_recoverable(
    differ: DiffHarness,
) -> None:
    snapshot, policy, group = await _excluded_group_deleted(differ)
    assert get_type("conditionalAccessPolicy").references

    report = await differ.diff(
        snapshot, scope={"objects": [{"type": "conditionalAccessPolicy", "ids": [policy]}]}
    )

    (change,) = report.changes
    excluded = change.property_at("conditions.users.excludeGroups")
    assert not excluded.recoverable
    assert excluded.reason is not None
    assert group in excluded.reason
    assert not change.recoverable
