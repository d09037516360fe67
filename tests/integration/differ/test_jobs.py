"""The report as a job: statuses, resuming after every unit, cancel, unreadable types,
and a report between two snapshots that agrees with the live one."""

from __future__ import annotations

from typing import Any

import pytest

from rewind_common.jobs.model import JobStatus
from rewind_common.storage.report_staging import REPORT_STAGING_COLLECTION
from rewind_differ import plan
from tests.integration.differ.support import DiffHarness


async def _edit(differ: DiffHarness) -> set[tuple[str, str, str]]:
    """Changes of every kind on users: updated, soft-deleted, hard-deleted, restored,
    created, and a manager replaced."""
    emulator = differ.emulator
    users = await differ.ids("user")
    (binned,) = await differ.ids("user", deleted=True)
    await emulator.graph_call("PATCH", f"/users/{users[0]}", {"department": "Shadow IT"})
    before = await emulator.state()
    await emulator.graph_call("DELETE", f"/users/{users[1]}")
    await emulator.graph_call("DELETE", f"/users/{users[2]}")
    await emulator.graph_call("DELETE", f"/directory/deletedItems/{users[2]}")
    await emulator.graph_call("POST", f"/directory/deletedItems/{binned}/restore")
    created = await emulator.graph_call(
        "POST",
        "/users",
        {
            "accountEnabled": True,
            "displayName": "Backdoor Admin",
            "mailNickname": "backdoor",
            "userPrincipalName": "backdoor@contoso.com",
            "passwordProfile": {"password": "Pa55w.rd-Incident!"},
        },
    )
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{created['id']}"}
    await emulator.graph_call("PUT", f"/users/{users[4]}/manager/$ref", ref)
    changed = {
        ("user", users[0], "updated"),
        ("user", users[1], "softDeleted"),
        ("user", users[2], "hardDeleted"),
        ("user", binned, "restored"),
        ("user", created["id"], "created"),
        ("user", users[4], "linksChanged"),
    }
    return changed | link_consequences(before, await emulator.state(), changed)


def link_consequences(
    before: dict[str, Any], after: dict[str, Any], changed: set[tuple[str, str, str]]
) -> set[tuple[str, str, str]]:
    """Links of other objects that changed as a result (a deleted user leaves its groups
    and stops being anyone's manager): real changes a report must list too."""
    touched = {(type_name, object_id) for type_name, object_id, _ in changed}
    found = set()
    for type_name, objects in before["links"].items():
        active = {b["id"] for b in after["types"][type_name]["active"]}
        for object_id, links in objects.items():
            if (type_name, object_id) in touched or object_id not in active:
                continue
            now = after["links"].get(type_name, {}).get(object_id, {})
            if any(_same(value) != _same(now.get(name)) for name, value in links.items()):
                found.add((type_name, object_id, "linksChanged"))
    return found


def _same(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) else value


async def _prepared(differ: DiffHarness) -> str:
    await differ.emulator.generate()
    users = await differ.ids("user")
    await differ.emulator.graph_call("DELETE", f"/users/{users[-1]}")  # in the recycle bin
    return (await differ.snapshot()).id


async def test_every_change_kind_through_short_resumed_steps(differ: DiffHarness) -> None:
    snapshot = await _prepared(differ)
    expected = await _edit(differ)

    whole = await differ.diff(snapshot)
    stepped = await differ.diff(snapshot, step_seconds=0.001)

    assert whole.kinds() == expected
    assert stepped.kinds() == expected
    assert stepped.steps > whole.steps + 3
    assert [c.to_dict() for c in stepped.changes] == [c.to_dict() for c in whole.changes]
    statuses = differ.base.recorder.statuses(whole.job.id)
    assert statuses == [JobStatus.LOADING_DATA, JobStatus.IN_PROGRESS, JobStatus.COMPLETED]
    assert whole.job.progress.done == whole.job.progress.total > 0
    staging = differ.base.mongo.db[REPORT_STAGING_COLLECTION]
    assert await staging.count_documents({}) == 0


async def test_a_report_between_two_snapshots_agrees_with_the_live_one(
    differ: DiffHarness,
) -> None:
    snapshot = await _prepared(differ)
    expected = await _edit(differ)
    later = await differ.snapshot()

    between = await differ.diff(snapshot, compare_to=later.id)
    live = await differ.diff(snapshot)

    assert between.kinds() == expected
    assert [c.to_dict() for c in between.changes] == [c.to_dict() for c in live.changes]
    assert differ.base.recorder.statuses(between.job.id)[-1] is JobStatus.COMPLETED


async def test_a_report_against_a_snapshot_without_a_recycle_bin_says_so(
    differ: DiffHarness,
) -> None:
    snapshot = await _prepared(differ)
    await _edit(differ)
    await differ.emulator.fault("GET", r"/identity/conditionalAccess/deletedItems/policies", 403)
    later = await differ.snapshot()
    await differ.emulator.clear_faults()
    assert later.unread_deleted_items == ["conditionalAccessPolicy"]

    between = await differ.diff(snapshot, compare_to=later.id)

    assert between.job.status is JobStatus.COMPLETED_WITH_WARNINGS
    assert [w.type for w in between.job.warnings] == ["conditionalAccessPolicy"]
    assert f"snapshot {later.id} holds no deleted" in between.job.warnings[0].reason
    assert between.record is not None
    assert between.record.skipped_types == {}


async def test_cancel_ends_the_job_with_an_incomplete_report(differ: DiffHarness) -> None:
    snapshot = await _prepared(differ)
    await _edit(differ)
    base = differ.base

    async def cancel_at(step: int) -> None:
        if step == 3:
            await base.control.request_cancel(job_id[0])

    job_id: list[str] = []
    original = base.run

    async def run(*args: Any, **kwargs: Any) -> Any:
        job_id.append(str(args[1]["jobId"]))
        return await original(*args, **kwargs)

    base.run = run  # type: ignore[method-assign]
    base.before_step = cancel_at
    report = await differ.diff(snapshot, step_seconds=0.001)

    assert report.job.status is JobStatus.CANCELED
    assert report.record is not None
    assert not report.record.complete
    assert report.job.result["complete"] is False
    staging = base.mongo.db[REPORT_STAGING_COLLECTION]
    assert await staging.count_documents({}) == 0


async def test_a_type_the_credentials_cannot_read_is_skipped_with_a_warning(
    differ: DiffHarness,
) -> None:
    snapshot = await _prepared(differ)
    expected = await _edit(differ)
    await differ.emulator.fault("GET", r"^/v1\.0/applications", 403)

    report = await differ.diff(snapshot)

    assert report.job.status is JobStatus.COMPLETED_WITH_WARNINGS
    assert report.kinds() == expected
    assert [w.type for w in report.job.warnings] == ["application"]
    assert report.record is not None
    assert set(report.record.skipped_types) == {"application"}


async def test_a_recycle_bin_graph_will_not_list_skips_its_type_in_a_live_report(
    differ: DiffHarness,
) -> None:
    snapshot = await _prepared(differ)
    await differ.emulator.fault("GET", r"/identity/conditionalAccess/deletedItems/policies", 403)

    report = await differ.diff(snapshot)

    # Without it a soft-deleted policy and one deleted for good look the same, and
    # recovering them takes different actions: the type is not compared at all.
    assert report.job.status is JobStatus.COMPLETED_WITH_WARNINGS
    assert [w.type for w in report.job.warnings] == ["conditionalAccessPolicy"]
    assert report.record is not None
    assert set(report.record.skipped_types) == {"conditionalAccessPolicy"}
    assert (
        "deleted conditionalAccessPolicy objects"
        in report.record.skipped_types["conditionalAccessPolicy"]
    )


async def test_large_types_are_staged_in_finer_buckets(
    differ: DiffHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = await _prepared(differ)
    expected = await _edit(differ)
    monkeypatch.setattr(plan, "WIDE_BUCKETS_FROM", 10)

    stepped = await differ.diff(snapshot, step_seconds=0.001)

    assert stepped.kinds() == expected
    staging = differ.base.mongo.db[REPORT_STAGING_COLLECTION]
    assert await staging.count_documents({}) == 0
