"""Safety rules against the emulator: an unresolvable reference fails only its action
(never a reduced list), a plan that would expose a break-glass account is refused before
anything is written, synced objects' mastered properties are reported, not written, and
a recovery scoped to some objects touches only them."""

from __future__ import annotations

import uuid
from typing import Any

from rewind_common.jobs.model import JobStatus
from tests.integration.recoverer.incident import prepare, strike
from tests.integration.recoverer.support import RecoveryHarness


async def _writes(rh: RecoveryHarness) -> int:
    stats: dict[str, Any] = await rh.emulator.control("GET", "/_emulator/stats")
    return int(stats["writes"])


def _policies(state: dict[str, Any]) -> list[dict[str, Any]]:
    return list(state["types"]["conditionalAccessPolicy"]["active"])


async def _exclusion_of_a_ghost_group_lost(rh: RecoveryHarness) -> tuple[str, str, str]:
    """A backup whose first CA policy excludes a group that exists neither in the tenant
    nor in the backup, and a tenant where that exclusion has gone: (snapshot, policy,
    group)."""
    await rh.emulator.generate()
    state = await rh.emulator.state()
    policy = _policies(state)[0]
    ghost = str(uuid.uuid4())
    conditions = policy["conditions"]
    conditions["users"]["excludeGroups"] = [ghost]
    path = f"/identity/conditionalAccess/policies/{policy['id']}"
    await rh.graph("PATCH", path, {"conditions": conditions})
    snapshot = await rh.backup()
    conditions["users"]["excludeGroups"] = []
    await rh.graph("PATCH", path, {"conditions": conditions})
    return snapshot, policy["id"], ghost


async def test_an_unresolvable_reference_fails_only_its_action(rh: RecoveryHarness) -> None:
    snapshot, policy_id, ghost = await _exclusion_of_a_ghost_group_lost(rh)
    state = await rh.emulator.state()
    user = state["types"]["user"]["active"][4]
    await rh.graph("PATCH", f"/users/{user['id']}", {"jobTitle": "Changed"})

    result = await rh.recover(snapshot)

    assert result.job.status is JobStatus.COMPLETED_WITH_WARNINGS
    (failed,) = result.of(type_name="conditionalAccessPolicy")
    assert failed["outcome"] == "failed"
    assert failed["error"]["code"] == "unresolvableReference"
    assert ghost in failed["error"]["message"]
    assert [a["outcome"] for a in result.of(type_name="user")] == ["applied"]
    after = await rh.emulator.state()
    live = next(p for p in _policies(after) if p["id"] == policy_id)
    assert live["conditions"]["users"]["excludeGroups"] == []  # not written at all
    assert any(ghost in w.reason for w in result.job.warnings)


async def test_a_recovery_whose_every_action_is_blocked_fails(rh: RecoveryHarness) -> None:
    snapshot, _, ghost = await _exclusion_of_a_ghost_group_lost(rh)
    writes = await _writes(rh)

    result = await rh.recover(snapshot)

    assert result.job.status is JobStatus.FAILED
    assert result.job.error is not None
    assert result.job.error.code == "nothingApplied"
    assert [a["outcome"] for a in result.actions] == ["failed"]
    assert any(ghost in w.reason for w in result.job.warnings)
    assert await _writes(rh) == writes


async def test_a_plan_exposing_a_break_glass_account_is_refused(rh: RecoveryHarness) -> None:
    await rh.emulator.generate()
    state = await rh.emulator.state()
    account = state["types"]["user"]["active"][0]["id"]
    policy = _policies(state)[0]
    conditions = policy["conditions"]
    conditions["users"] = {"includeUsers": ["All"], "excludeUsers": []}
    path = f"/identity/conditionalAccess/policies/{policy['id']}"
    await rh.graph("PATCH", path, {"conditions": conditions, "state": "enabled"})
    snapshot = await rh.backup()
    await rh.graph("PATCH", path, {"displayName": "Renamed by someone"})
    rh.with_break_glass(account)
    writes = await _writes(rh)

    result = await rh.recover(snapshot)

    assert result.job.status is JobStatus.FAILED
    assert result.job.error is not None
    assert result.job.error.code == "planRefused"
    assert account in result.job.error.message
    assert await _writes(rh) == writes


async def test_synced_mastered_properties_are_reported_not_written(rh: RecoveryHarness) -> None:
    await rh.emulator.generate()
    state = await rh.emulator.state()
    synced, cloud = state["types"]["user"]["active"][6:8]
    snapshot = await rh.backup()
    for user in (synced, cloud):
        await rh.graph("PATCH", f"/users/{user['id']}", {"jobTitle": "Changed"})
    await rh.emulator.control("POST", f"/_emulator/objects/user/{synced['id']}/sync")

    result = await rh.recover(snapshot)

    assert result.job.status is JobStatus.COMPLETED_WITH_WARNINGS
    by_id = {a["objectId"]: a for a in result.actions}
    assert by_id[cloud["id"]]["outcome"] == "applied"
    assert by_id[synced["id"]]["outcome"] == "skipped"
    reasons = [w.reason for w in result.job.warnings if w.object_id == synced["id"]]
    assert any("on-premises" in r for r in reasons), reasons
    after = {u["id"]: u for u in (await rh.emulator.state())["types"]["user"]["active"]}
    assert after[synced["id"]]["jobTitle"] == "Changed"
    assert after[cloud["id"]]["jobTitle"] == cloud["jobTitle"]


async def test_a_scoped_recovery_touches_only_its_scope(rh: RecoveryHarness) -> None:
    await rh.emulator.generate()
    incident = await prepare(rh.graph, await rh.emulator.state())
    rh.with_break_glass(*incident.break_glass)
    snapshot = await rh.backup()
    before = await rh.emulator.state()
    await strike(rh.graph, before, incident)
    struck = await rh.emulator.state()
    first = incident.users[0]

    by_type = await rh.recover(snapshot, scope={"types": ["application"]})
    by_id = await rh.recover(snapshot, scope={"objects": [{"type": "user", "ids": [first]}]})

    assert {a["type"] for a in by_type.actions} == {"application"}
    assert [(a["type"], a["objectId"]) for a in by_id.actions] == [("user", first)]
    after = await rh.emulator.state()
    for type_name in ("group", "conditionalAccessPolicy"):
        assert after["types"][type_name] == struck["types"][type_name], type_name
    # Deleting the rogue application takes its own service principal with it, as in Entra.
    kept = [
        s for s in struck["types"]["servicePrincipal"]["active"] if s["id"] != incident.rogue_sp
    ]
    assert [
        s for s in after["types"]["servicePrincipal"]["active"] if s["id"] != incident.rogue_sp
    ] == kept
    assert after["links"] == struck["links"]
    users = {u["id"]: u for u in after["types"]["user"]["active"]}
    old = {u["id"]: u for u in before["types"]["user"]["active"]}
    assert users[first]["jobTitle"] == old[first]["jobTitle"]
    assert users[incident.users[1]]["jobTitle"] == "Compromised 1"
    apps = {a["id"]: a for a in after["types"]["application"]["active"]}
    assert incident.rogue_app not in apps
    assert apps[incident.application]["web"] == next(
        a["web"]
        for a in before["types"]["application"]["active"]
        if a["id"] == incident.application
    )
