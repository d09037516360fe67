"""A full snapshot holds every object and link of the tenant, as the emulator holds them."""

from __future__ import annotations

from rewind_common.jobs.model import JobStatus
from tests.integration.snapshotter.support import (
    Harness,
    assert_matches_state,
    snapshot_contents,
    stored_cost,
)


async def test_a_full_snapshot_holds_every_object_and_link(harness: Harness) -> None:
    await harness.emulator.generate()
    users = (await harness.emulator.state())["types"]["user"]["active"]
    await harness.emulator.graph_call("DELETE", f"/users/{users[0]['id']}")

    job, record = await harness.snapshot()

    assert job.status is JobStatus.COMPLETED, job.error
    assert record is not None
    assert job.result["snapshotId"] == record.id
    assert harness.recorder.statuses(job.id) == [
        JobStatus.LOADING_DATA,
        JobStatus.IN_PROGRESS,
        JobStatus.COMPLETED,
    ]
    state = await harness.emulator.state()
    assert_matches_state(await snapshot_contents(harness, record), state, registry_select=True)
    assert record.deleted_counts["user"] == 1
    assert record.new_versions == record.entry_count
    assert (record.new_versions, record.stored_bytes) == await stored_cost(harness, record.id)
