"""The incident of the difference-report tests, recovered in full, against the emulator:
the tenant equals the backup on every recoverable property and link, hard-deleted
objects come back under new ids with every reference remapped, rogue objects are
soft-deleted (and can be restored), running the recovery again writes nothing, and a
difference report from the same backup afterwards finds nothing left to recover."""

from __future__ import annotations

from typing import Any

from rewind_common.jobs.model import JobStatus
from rewind_common.storage.report_staging import ReportStaging
from rewind_common.storage.reports import ReportStore
from rewind_common.storage.snapshot_reader import SnapshotReader
from tests.integration.differ.support import DiffHarness
from tests.integration.recoverer.incident import Incident, prepare, strike
from tests.integration.recoverer.support import RecoveryHarness, tenant_differences


async def _writes(rh: RecoveryHarness) -> int:
    stats: dict[str, Any] = await rh.emulator.control("GET", "/_emulator/stats")
    return int(stats["writes"])


async def _staged(rh: RecoveryHarness) -> tuple[Incident, str, dict[str, Any]]:
    await rh.emulator.generate()
    incident = await prepare(rh.graph, await rh.emulator.state())
    rh.with_break_glass(*incident.break_glass)
    snapshot = await rh.backup()
    before = await rh.emulator.state()
    await strike(rh.graph, before, incident)
    return incident, snapshot, before


async def test_the_incident_is_recovered_and_a_second_run_changes_nothing(
    rh: RecoveryHarness,
) -> None:
    incident, snapshot, before = await _staged(rh)

    result = await rh.recover(snapshot)

    assert result.job.status is JobStatus.COMPLETED, (result.job.error, result.job.warnings)
    assert result.outcomes() == {"applied": len(result.actions)}
    after = await rh.emulator.state()
    id_map: dict[str, str] = result.record["idMap"]
    assert tenant_differences(before, after, id_map) == []
    assert result.record["verification"]["clean"] is True

    # the hard-deleted group is back under a new id, referenced by its new id
    new_group = id_map[incident.hard_deleted]
    assert new_group != incident.hard_deleted
    policy = next(
        p for p in after["types"]["conditionalAccessPolicy"]["active"] if p["id"] == incident.policy
    )
    assert new_group in policy["conditions"]["users"]["excludeGroups"]
    assert incident.hard_deleted not in policy["conditions"]["users"]["excludeGroups"]
    assert new_group in after["links"]["group"][incident.parent_group]["members"]
    recreate = result.of("recreate", "group")[0]
    assert recreate["newObjectId"] == new_group
    assert result.job.result["idMap"] == id_map

    # rogue objects sit in deleted items, and can be restored from there
    deleted = {b["id"] for b in after["types"]["application"]["deleted"]}
    deleted |= {b["id"] for b in after["types"]["servicePrincipal"]["deleted"]}
    assert {incident.rogue_app, incident.rogue_sp} <= deleted
    active_assignments = {b["id"] for b in after["types"]["appRoleAssignment"]["active"]}
    assert incident.rogue_assignment not in active_assignments
    restored = await rh.graph("POST", f"/directory/deletedItems/{incident.rogue_app}/restore")
    assert restored["id"] == incident.rogue_app
    await rh.graph("DELETE", f"/applications/{incident.rogue_app}")

    # the pre-recovery snapshot holds what the recovery wrote, as it was
    pre = await rh.pre_recovery.find(result.record["preRecoverySnapshotId"])
    assert pre is not None
    assert pre.recovery_id == result.job.id
    users = await SnapshotReader(rh.base.store).get(pre.chain, "user", incident.users)
    assert {u.body["jobTitle"] for u in users.values()} == {f"Compromised {i}" for i in range(3)}
    assert "group" in pre.counts
    assert incident.m365_group in pre.scope.objects["group"]

    # running it again: nothing to do, nothing written
    writes = await _writes(rh)
    again = await rh.recover(snapshot)
    assert again.job.status is JobStatus.COMPLETED
    assert again.actions == []
    assert await _writes(rh) == writes


async def test_a_dry_run_lists_the_plan_and_writes_nothing(rh: RecoveryHarness) -> None:
    _, snapshot, _ = await _staged(rh)
    writes = await _writes(rh)
    state = await rh.emulator.state()

    result = await rh.recover(snapshot, dry_run=True)

    assert result.job.status is JobStatus.COMPLETED
    assert await _writes(rh) == writes
    assert await rh.emulator.state() == state
    assert result.actions
    assert {a["outcome"] for a in result.actions} == {"pending"}
    assert result.record["preRecoverySnapshotId"] is None
    kinds = {(a["action"], a["type"]) for a in result.actions}
    assert {
        ("update", "user"),
        ("restore", "group"),
        ("recreate", "group"),
        ("links", "group"),
        ("update", "application"),
        ("update", "conditionalAccessPolicy"),
        ("softDelete", "application"),
        ("softDelete", "servicePrincipal"),
        ("softDelete", "appRoleAssignment"),
    } <= kinds
    recreate = result.of("recreate", "group")[0]
    assert recreate["requests"][0]["method"] == "POST"


async def test_after_the_recovery_a_report_from_the_backup_finds_nothing_to_recover(
    rh: RecoveryHarness,
) -> None:
    incident, snapshot, _ = await _staged(rh)
    reports = ReportStore(rh.base.mongo)
    staging = ReportStaging(rh.base.mongo)
    await reports.ensure_indexes()
    await staging.ensure_indexes()
    differ = DiffHarness(rh.base, reports, staging)
    before = await differ.diff(snapshot)
    assert ("group", incident.hard_deleted, "hardDeleted") in before.kinds()

    recovered = await rh.recover(snapshot)
    new_group = recovered.record["idMap"][incident.hard_deleted]

    # The re-created group is the backup's group under its new id, and references to it
    # were rewritten: neither is a change to recover again.
    whole = await differ.diff(snapshot)
    assert whole.job.status is JobStatus.COMPLETED
    assert whole.changes == []
    by_old_id = await differ.diff(
        snapshot, scope={"objects": [{"type": "group", "ids": [incident.hard_deleted]}]}
    )
    assert by_old_id.changes == []

    # A change made to it since is reported under the id it has now, and recovered there.
    await rh.graph("PATCH", f"/groups/{new_group}", {"description": "changed later"})
    changed = await differ.diff(snapshot)
    assert changed.kinds() == {("group", new_group, "updated")}
    assert [p.path for p in changed.changes[0].properties] == ["description"]
    again = await rh.recover(report_id=changed.job.id)
    assert again.job.status is JobStatus.COMPLETED
    assert [(a["action"], a["objectId"]) for a in again.actions] == [("update", new_group)]
    assert (await differ.diff(snapshot)).changes == []
