"""Exactly once across interruptions: a recovery cut into short steps, one stopped
between creating an object and recording its id, one canceled before its next write, and
one against the emulator's throttling all end with each action applied once."""

from __future__ import annotations

from typing import Any

from rewind_common.errors import DependencyUnavailable
from rewind_common.jobs.model import JobStatus
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.recoveries import RecoveryStore
from tests.integration.recoverer.incident import prepare, strike
from tests.integration.recoverer.support import RecoveryHarness, tenant_differences


async def _stats(rh: RecoveryHarness) -> dict[str, Any]:
    stats: dict[str, Any] = await rh.emulator.control("GET", "/_emulator/stats")
    return stats


async def _incident(rh: RecoveryHarness) -> tuple[str, dict[str, Any], Any]:
    await rh.emulator.generate()
    incident = await prepare(rh.graph, await rh.emulator.state())
    rh.with_break_glass(*incident.break_glass)
    snapshot = await rh.backup()
    before = await rh.emulator.state()
    await strike(rh.graph, before, incident)
    return snapshot, before, incident


class CrashAfterCreate(RecoveryStore):
    """Dies (as far as the step can tell) right after Graph created an object, before its
    new id is stored: the first time only."""

    crashed = 0

    def __init__(self, mongo: Mongo) -> None:
        super().__init__(mongo)

    async def record_created(
        self, recovery_id: str, seq: int, new_id: str, new_app_id: str | None
    ) -> None:
        if CrashAfterCreate.crashed == 0:
            CrashAfterCreate.crashed += 1
            raise DependencyUnavailable("the worker died")
        await super().record_created(recovery_id, seq, new_id, new_app_id)


async def test_a_crash_between_a_create_and_its_record_creates_nothing_twice(
    rh: RecoveryHarness,
) -> None:
    snapshot, before, incident = await _incident(rh)
    rh.store_factory = CrashAfterCreate
    CrashAfterCreate.crashed = 0

    result = await rh.recover(snapshot)

    assert CrashAfterCreate.crashed == 1
    assert result.steps > 1
    assert result.job.status is JobStatus.COMPLETED, result.job.error
    after = await rh.emulator.state()
    name = next(
        g["displayName"]
        for g in before["types"]["group"]["active"]
        if g["id"] == incident.hard_deleted
    )
    copies = [g for g in after["types"]["group"]["active"] if g["displayName"] == name]
    assert len(copies) == 1
    assert result.record["idMap"][incident.hard_deleted] == copies[0]["id"]
    assert tenant_differences(before, after, result.record["idMap"]) == []


async def test_short_steps_resume_and_apply_each_action_once(rh: RecoveryHarness) -> None:
    snapshot, before, _ = await _incident(rh)
    uninterrupted = await rh.recover(snapshot, dry_run=True)
    planned_writes = sum(len(a["requests"]) for a in uninterrupted.actions)
    writes = int((await _stats(rh))["writes"])

    result = await rh.recover(snapshot, step_seconds=0.001)

    assert result.steps > 3
    assert result.job.status is JobStatus.COMPLETED
    assert int((await _stats(rh))["writes"]) - writes == planned_writes
    after = await rh.emulator.state()
    assert tenant_differences(before, after, result.record["idMap"]) == []


async def test_cancel_stops_before_the_next_write_and_lists_what_was_applied(
    rh: RecoveryHarness,
) -> None:
    snapshot, _, _ = await _incident(rh)
    job_id = "01900000-0000-7000-8000-00000000c0c0"

    async def cancel_after_first_step(step: int) -> None:
        if step == 2:
            await rh.base.jobs.request_cancel("8b5b1d58-7f0e-4a9b-9a3c-2d4f6e8a1c01", job_id)
            await rh.base.control.request_cancel(job_id)

    rh.base.before_step = cancel_after_first_step
    writes_at: list[int] = []
    result = await rh.recover(snapshot, step_seconds=0.001, job_id=job_id)
    writes_at.append(int((await _stats(rh))["writes"]))

    assert result.job.status is JobStatus.CANCELED
    outcomes = result.outcomes()
    assert outcomes.get("applied", 0) >= 1
    assert outcomes.get("skipped", 0) >= 1
    assert set(outcomes) <= {"applied", "skipped"}
    assert result.job.result["applied"] == outcomes["applied"]
    assert len(result.job.result["appliedActions"]) == outcomes["applied"]
    for action in result.of():
        if action["outcome"] == "skipped":
            assert action["error"]["code"] == "canceled"
            assert action["attemptedAt"] is None


async def test_a_throttled_recovery_completes_its_429s_absorbed(rh: RecoveryHarness) -> None:
    snapshot, before, _ = await _incident(rh)
    await rh.emulator.config(throttling={"enabled": True})
    for path in ("/users/", "/groups/"):
        await rh.emulator.control(
            "POST",
            "/_emulator/faults",
            {"method": "PATCH", "pathRegex": path, "status": 429, "times": 3, "retryAfter": 1},
        )
    await rh.emulator.control("DELETE", "/_emulator/stats")
    rh.budget = True

    result = await rh.recover(snapshot)

    assert result.job.status is JobStatus.COMPLETED, (result.job.error, result.job.warnings)
    stats = await _stats(rh)
    assert int(stats["throttled"]) >= 6
    after = await rh.emulator.state()
    assert tenant_differences(before, after, result.record["idMap"]) == []
