"""The snapshot job as a job: statuses, cancel, types it may not read, and steps that
run again after a redelivery."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from rewind_common import metrics
from rewind_common.jobs.model import JobStatus
from rewind_common.storage.chunks import ChunkStore
from rewind_common.storage.mongo import unavailable
from rewind_snapshotter.snapshot import seal_phase
from tests.integration.snapshotter.support import (
    Harness,
    assert_matches_state,
    snapshot_contents,
    stored_cost,
)
from tests.integration.tenant.emulated import TENANT_ID


def unread_gauge(type_name: str, part: str) -> float:
    """What the snapshotter's metrics say the tenant's latest snapshot lacks."""
    return float(metrics.SNAPSHOT_UNREAD.labels(TENANT_ID, type_name, part)._value.get())


async def test_a_type_the_credentials_may_not_read_is_a_warning(harness: Harness) -> None:
    await harness.emulator.generate()
    await harness.emulator.fault("GET", r"/identity/conditionalAccess/policies", 403)

    job, record = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED_WITH_WARNINGS
    assert [(w.type, w.object_id) for w in job.warnings] == [("conditionalAccessPolicy", None)]
    assert "403" in job.warnings[0].reason
    assert record is not None
    assert record.status == "Completed with warnings"
    assert record.unread_types == ["conditionalAccessPolicy"]
    assert "conditionalAccessPolicy" not in record.counts
    assert record.counts["user"] > 0
    assert "conditionalAccessPolicy" not in record.delta_links
    assert unread_gauge("conditionalAccessPolicy", "objects") == 1

    await harness.emulator.clear_faults()
    job, again = await harness.snapshot()
    assert job.status is JobStatus.COMPLETED
    assert again is not None
    assert again.counts["conditionalAccessPolicy"] > 0
    assert unread_gauge("conditionalAccessPolicy", "objects") == 0


@pytest.mark.parametrize(
    ("type_name", "path", "recycle_bin", "status"),
    [
        (
            "conditionalAccessPolicy",
            "/identity/conditionalAccess/policies",
            r"/identity/conditionalAccess/deletedItems/policies",
            403,
        ),
        ("user", "/users", r"/directory/deletedItems/microsoft\.graph\.user", 400),
    ],
)
async def test_a_recycle_bin_graph_will_not_list_leaves_out_only_the_deleted_objects(
    harness: Harness, type_name: str, path: str, recycle_bin: str, status: int
) -> None:
    await harness.emulator.generate()
    live = (await harness.emulator.state())["types"][type_name]["active"]
    binned = live[0]["id"]
    await harness.emulator.graph_call("DELETE", f"{path}/{binned}")
    await harness.emulator.fault("GET", recycle_bin, status)

    job, record = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED_WITH_WARNINGS
    assert [(w.type, w.object_id) for w in job.warnings] == [(type_name, None)]
    assert f"deleted {type_name} objects could not be read" in job.warnings[0].reason
    assert str(status) in job.warnings[0].reason
    assert record is not None
    assert record.unread_types == []
    assert record.unread_deleted_items == [type_name]
    contents = await snapshot_contents(harness, record)
    assert set(contents[type_name]) == {body["id"] for body in live[1:]}
    assert not any(deleted for deleted, _, _ in contents[type_name].values())
    assert unread_gauge(type_name, "deletedItems") == 1
    assert unread_gauge(type_name, "objects") == 0

    # Once Graph lists it again, the next snapshot reads the type whole, its bin too.
    await harness.emulator.clear_faults()
    job, again = await harness.snapshot()
    assert job.status is JobStatus.COMPLETED
    assert again is not None
    assert again.mode == "incremental"
    assert again.unread_deleted_items == []
    assert unread_gauge(type_name, "deletedItems") == 0
    contents = await snapshot_contents(harness, again)
    assert contents[type_name][binned][0] is True
    assert len(contents[type_name]) == len(live)


async def test_changes_whose_recycle_bin_graph_refuses_read_the_type_whole_without_it(
    harness: Harness,
) -> None:
    await harness.emulator.generate()
    await harness.snapshot()
    users = (await harness.emulator.state())["types"]["user"]["active"]
    binned = users[0]["id"]
    await harness.emulator.graph_call("DELETE", f"/users/{binned}")
    # the soft-deleted user is looked up in the recycle bin by id, then listed
    await harness.emulator.fault("GET", r"/directory/deletedItems/", 403)

    job, record = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED_WITH_WARNINGS
    assert [(w.type, w.object_id) for w in job.warnings] == [("user", None)]
    assert record is not None
    assert record.mode == "incremental"
    assert (record.unread_types, record.unread_deleted_items) == ([], ["user"])
    contents = await snapshot_contents(harness, record)
    assert set(contents["user"]) == {user["id"] for user in users[1:]}


async def test_cancel_ends_the_job_canceled_without_a_snapshot(harness: Harness) -> None:
    await harness.emulator.generate()
    job_ids: list[str] = []

    async def cancel_on_third_step(step: int) -> None:
        if step == 2:
            job = (await harness.jobs.page(harness.settings.tenants[0].tenant_id))[0][0]
            job_ids.append(job.id)
            await harness.control.request_cancel(job.id)

    harness.before_step = cancel_on_third_step
    job, record = await harness.snapshot(step_seconds=0.001)

    assert job.status is JobStatus.CANCELED
    assert job.result["published"] is False
    assert record is None
    assert await harness.store.all_records() == []


async def test_steps_replayed_after_a_lost_checkpoint_store_the_snapshot_once(
    harness: Harness,
) -> None:
    """A worker killed after storing work but before checkpointing it: the redelivered
    step does the same work again, and nothing is stored twice."""
    await harness.emulator.generate()
    _, first = await harness.snapshot()
    users = (await harness.emulator.state())["types"]["user"]["active"]
    await harness.emulator.graph_call("PATCH", f"/users/{users[0]['id']}", {"city": "Oslo"})
    saved = losing_checkpoints(harness, every=3, back=2)
    job, record = await harness.snapshot(step_seconds=0.001)

    assert job.status is JobStatus.COMPLETED, job.error
    assert record is not None
    assert record.new_versions == 1
    assert (record.new_versions, record.stored_bytes) == await stored_cost(harness, record.id)
    assert len(saved) > 6
    assert_matches_state(
        await snapshot_contents(harness, record),
        await harness.emulator.state(),
        registry_select=True,
    )
    assert (await harness.verify(record.id)).status is JobStatus.COMPLETED
    assert first is not None


async def test_types_hashed_as_they_are_sealed_fold_to_the_root_verification_recomputes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Types sealed a bucket at a time and hashed from the rows just sealed, over steps
    whose checkpoints are sometimes lost: the recorded root and counts are what
    verification rebuilds from every stored entry."""
    monkeypatch.setattr(seal_phase, "SEAL_UNIT", 3)
    await harness.emulator.generate()
    losing_checkpoints(harness, every=4, back=1)
    job, record = await harness.snapshot(step_seconds=0.001)

    assert job.status is JobStatus.COMPLETED, job.error
    assert record is not None
    assert record.counts["user"] == len((await harness.emulator.state())["types"]["user"]["active"])
    verified = await harness.verify(record.id)
    assert verified.status is JobStatus.COMPLETED, verified.result


def losing_checkpoints(harness: Harness, *, every: int, back: int) -> dict[int, Any]:
    """Before every ``every``-th step, the checkpoint of ``back`` steps earlier comes
    back, as if a worker had died after its work but before checkpointing it; returns
    the checkpoints seen before each step."""
    saved: dict[int, Any] = {}

    async def lose_checkpoints(step: int) -> None:
        job = (await harness.jobs.page(harness.settings.tenants[0].tenant_id))[0][0]
        saved[step] = await harness.jobs.load_checkpoint(job.id)
        if step >= every and step % every == 0:
            await harness.jobs.save_checkpoint(job.id, saved[step - back], job.created_at)

    harness.before_step = lose_checkpoints
    return saved


async def test_a_manifest_write_lost_mid_seal_is_written_again_by_the_retried_step(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit's chunks are written while the next unit is folded: when MongoDB fails
    that write, the unit has not counted as sealed, and the step retried after the
    failure writes it, so every entry is in the snapshot once and it verifies."""
    monkeypatch.setattr(seal_phase, "SEAL_UNIT", 3)
    monkeypatch.setattr(seal_phase, "_CHECKPOINT_SECONDS", 0.0)  # each unit checkpointed
    written = 0
    write_rows = ChunkStore.write_rows

    async def failing_once(self: ChunkStore, *args: Any, **kwargs: Any) -> Any:
        nonlocal written
        written += 1
        if written == 4:
            raise unavailable(AutoReconnect("connection reset"))
        return await write_rows(self, *args, **kwargs)

    monkeypatch.setattr(ChunkStore, "write_rows", failing_once)
    await harness.emulator.generate()
    job, record = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED, job.error
    assert record is not None
    assert written > 4
    assert_matches_state(
        await snapshot_contents(harness, record),
        await harness.emulator.state(),
        registry_select=True,
    )
    assert (await harness.verify(record.id)).status is JobStatus.COMPLETED
