"""Retention removes expired snapshots, never held ones or the newest, and garbage
collection leaves every remaining snapshot verifiable."""

from __future__ import annotations

from datetime import timedelta

from rewind_common.domain.diff import diff_object
from rewind_common.domain.records import ObjectState
from rewind_common.jobs.model import Job, JobKind, JobStatus, utcnow
from rewind_common.settings import RetentionPolicy
from rewind_common.storage.mongo import Collection
from rewind_common.storage.report_staging import ReportStaging
from rewind_common.storage.reports import ReportRecord, ReportStore
from tests.integration.snapshotter.support import Harness
from tests.integration.tenant.emulated import TENANT_ID


async def _age(harness: Harness, snapshot_id: str, days: float) -> None:
    """Pretend a snapshot was taken ``days`` ago (tests only)."""
    snapshots = harness.mongo.collection(Collection.SNAPSHOTS)
    await snapshots.update_one(
        {"_id": snapshot_id}, {"$set": {"createdAt": utcnow() - timedelta(days=days)}}
    )


async def test_retention_removes_expired_snapshots_but_not_held_ones_or_the_newest(
    harness: Harness,
) -> None:
    harness.settings = harness.settings.model_copy(
        update={"retention": RetentionPolicy(keep_all_days=1, keep_daily_days=2)}
    )
    await harness.emulator.generate()
    users = (await harness.emulator.state())["types"]["user"]["active"]
    records = []
    for index in range(4):
        await harness.emulator.graph_call(
            "PATCH", f"/users/{users[index]['id']}", {"jobTitle": f"Title {index}"}
        )
        _, record = await harness.snapshot("full" if index == 2 else None)
        assert record is not None
        records.append(record)
    # 0: full, 1: incremental on 0, 2: full, 3: incremental on 2
    for record in records[:3]:
        await _age(harness, record.id, days=10)
    await harness.store.set_hold(records[1].id, by="legal", at=utcnow(), reason="case 42")

    job = await harness.retention()

    assert job.status is JobStatus.COMPLETED, job.error
    assert set(job.result["expired"]) == {records[0].id, records[2].id}
    remaining = {r.id for r in await harness.store.all_records()}
    assert remaining == {records[1].id, records[3].id}
    # the expired snapshots' segments are the bases of the remaining ones: kept
    assert job.result["segmentsDeleted"] == 0
    for record in (records[1], records[3]):
        assert (await harness.verify(record.id)).status is JobStatus.COMPLETED

    await harness.store.clear_hold(records[1].id)
    job = await harness.retention()
    assert job.result["expired"] == [records[1].id]
    assert job.result["segmentsDeleted"] == 2
    assert {r.id for r in await harness.store.all_records()} == {records[3].id}
    assert (await harness.verify(records[3].id)).status is JobStatus.COMPLETED
    chunks = harness.mongo.collection(Collection.MANIFEST)
    assert await chunks.count_documents({"seg": {"$in": [records[0].id, records[1].id]}}) == 0
    await _assert_no_garbage(harness)


async def test_garbage_collection_removes_what_nothing_references(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(
        update={"retention": RetentionPolicy(keep_all_days=0, keep_daily_days=0)}
    )
    await harness.emulator.generate(seed=1)
    _, old = await harness.snapshot()
    # A different tenant's worth of objects: nothing of the old snapshot is shared.
    await harness.emulator.control("POST", "/_emulator/reset")
    await harness.emulator.generate(seed=2)
    _, new = await harness.snapshot("full")
    assert old is not None
    assert new is not None
    packs = harness.mongo.collection(Collection.VERSIONS)
    old_packs = {d["_id"] async for d in packs.find({"firstSnapshot": old.id}, {"_id": 1})}
    still_used = old_packs & set((await harness.store.segments_of(new.tenant_id))[new.id])
    # the organization and the policies did not change: the new snapshot shares those
    assert 0 < len(still_used) < len(old_packs)

    job = await harness.retention()

    assert job.result["expired"] == [old.id]
    assert job.result["packsDeleted"] == len(old_packs - still_used)
    left = {d["_id"] async for d in packs.find({"firstSnapshot": old.id}, {"_id": 1})}
    assert left == still_used
    assert (await harness.verify(new.id)).status is JobStatus.COMPLETED
    await _assert_no_garbage(harness)


async def _assert_no_garbage(harness: Harness) -> None:
    """Every pack and segment left belongs to a remaining snapshot; no staging is left."""
    records = await harness.store.all_records()
    live = {segment.id for record in records for segment in record.chain}
    segments = await harness.store.segments_of(records[0].tenant_id)
    assert set(segments) == live
    referenced = {pack for segment in live for pack in segments[segment]}
    stored = {
        d["_id"] async for d in harness.mongo.collection(Collection.VERSIONS).find({}, {"_id": 1})
    }
    assert stored == referenced
    staging = harness.mongo.db["manifest_staging"]
    assert await staging.count_documents({}) == 0


async def test_what_a_canceled_snapshot_left_is_removed_after_a_while(harness: Harness) -> None:
    await harness.emulator.generate()
    _, kept = await harness.snapshot()
    assert kept is not None

    async def cancel_on_second_step(step: int) -> None:
        if step == 1:
            job = (await harness.jobs.page(TENANT_ID))[0][0]
            await harness.control.request_cancel(job.id)

    harness.before_step = cancel_on_second_step
    canceled, record = await harness.snapshot("full", step_seconds=0.001)
    harness.before_step = None
    assert canceled.status is JobStatus.CANCELED
    assert record is None
    orphan = canceled.parameters["snapshotId"]
    packs = harness.mongo.collection(Collection.VERSIONS)
    staging = harness.mongo.db["manifest_staging"]
    assert await staging.count_documents({"seg": orphan}) > 0

    job = await harness.retention()  # too recent: kept, the job may yet be retried
    assert job.result["segmentsDeleted"] == 0
    assert await staging.count_documents({"seg": orphan}) > 0

    await harness.mongo.collection(Collection.JOBS).update_one(
        {"_id": canceled.id}, {"$set": {"finishedAt": utcnow() - timedelta(hours=2)}}
    )
    job = await harness.retention()
    assert job.result["segmentsDeleted"] == 1
    assert await staging.count_documents({"seg": orphan}) == 0
    assert await packs.count_documents({"firstSnapshot": orphan}) == 0
    assert (await harness.verify(kept.id)).status is JobStatus.COMPLETED


async def test_reports_expire_after_their_own_retention(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(
        update={"retention": RetentionPolicy(keep_reports_days=30)}
    )
    reports = ReportStore(harness.mongo)
    staging = ReportStaging(harness.mongo)
    change = diff_object(
        ObjectState("user", "u1", {"jobTitle": "Engineer"}),
        ObjectState("user", "u1", {"jobTitle": "Changed"}),
    )
    assert change is not None
    for report_id, age_days in (("old", 31), ("recent", 29)):
        created = utcnow() - timedelta(days=age_days)
        await reports.start(ReportRecord(report_id, TENANT_ID, "s1", None, None, created))
        await reports.put_changes(report_id, [change])
        await reports.complete(report_id, summary={"user": {"updated": 1}}, completed_at=created)
    # a report whose worker failed left its staged live state behind, as did one that
    # failed only minutes ago (it may be redelivered yet) and one still running
    for report_id, status, finished in (
        ("failed", JobStatus.FAILED, utcnow() - timedelta(hours=2)),
        ("just-failed", JobStatus.FAILED, utcnow()),
        ("running", JobStatus.IN_PROGRESS, None),
    ):
        await harness.jobs.insert(
            Job(
                id=report_id,
                tenant_id=TENANT_ID,
                kind=JobKind.DIFFERENCE_REPORT,
                status=status,
                finished_at=finished,
            )
        )
        state = ObjectState("user", "u1", {"jobTitle": "Changed"})
        await staging.write(report_id, "user", 0, [state], at=utcnow())

    job = await harness.retention()

    assert job.status is JobStatus.COMPLETED, job.error
    assert job.result["reportsDeleted"] == 1
    assert await reports.find("old") is None
    assert await reports.find_change("old", "user", "u1") is None
    recent = await reports.find("recent")
    assert recent is not None
    assert recent.complete
    assert await reports.find_change("recent", "user", "u1") == change
    assert await staging.staged_reports() == {"just-failed", "running"}
