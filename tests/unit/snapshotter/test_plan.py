"""Full or incremental, and how each type is read."""

from __future__ import annotations

from datetime import UTC, datetime

from rewind_common.registry import ALL_TYPES
from rewind_common.settings import Settings
from rewind_common.storage.manifest import Segment
from rewind_common.storage.snapshots import SnapshotRecord
from rewind_snapshotter.snapshot.plan import choose_mode, plan_snapshot
from rewind_snapshotter.snapshot.state import DELTA_CHANGES, DELTA_FIRST, PAGES

SETTINGS = Settings(incremental_chain_max=3)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _record(chain: int, *, unread: list[str] | None = None) -> SnapshotRecord:
    return SnapshotRecord(
        id="s9",
        tenant_id="t",
        job_id="j",
        mode="incremental",
        status="Completed",
        created_at=NOW,
        completed_at=NOW,
        chain=[Segment(f"s{i}", frozenset()) for i in range(chain)],
        counts={},
        deleted_counts={},
        link_counts={},
        entry_count=1234,
        new_versions=0,
        stored_bytes=0,
        manifest_root="a" * 64,
        merkle_root="b" * 64,
        previous_root=None,
        previous_snapshot_id=None,
        delta_links={
            "user": "https://graph/users/delta?$deltatoken=1",
            "group": "g",
            "appRoleAssignment": "https://graph/directoryObjects/delta?$deltatoken=2",
        },
        unread_types=unread or [],
    )


def test_the_mode_is_incremental_when_a_short_enough_chain_exists() -> None:
    assert choose_mode(None, None, SETTINGS) == "full"
    assert choose_mode("incremental", None, SETTINGS) == "full"
    assert choose_mode(None, _record(2), SETTINGS) == "incremental"
    assert choose_mode("full", _record(1), SETTINGS) == "full"
    assert choose_mode(None, _record(3), SETTINGS) == "full"


def test_types_use_delta_from_the_last_link_or_are_read_whole() -> None:
    state = plan_snapshot("s10", None, _record(1, unread=["group"]), SETTINGS)
    assert state.mode == "incremental"
    assert state.base_id == "s9"
    assert state.base_root == "b" * 64
    assert state.expected_objects == 1234
    methods = {name: (p.method, p.full) for name, p in state.types.items()}
    assert methods["user"] == (DELTA_CHANGES, False)
    assert state.types["user"].cursor.endswith("$deltatoken=1")
    assert methods["group"] == (DELTA_FIRST, True)  # unread last time: no link to trust
    assert methods["application"] == (DELTA_FIRST, True)  # no link stored
    assert methods["conditionalAccessPolicy"] == (PAGES, True)
    assert methods["appRoleAssignment"] == (DELTA_CHANGES, False)
    assert list(state.types) == [t.name for t in ALL_TYPES]


def test_a_full_snapshot_reads_everything_whole_but_keeps_its_base() -> None:
    state = plan_snapshot("s10", "full", _record(1), SETTINGS)
    assert state.mode == "full"
    assert state.base_id == "s9"  # still chained to it, and compared with it
    assert all(progress.full for progress in state.types.values())
    # Assignments are listed (their delta's first round would read every user again);
    # the listing takes a link from now to track them.
    assert state.types["appRoleAssignment"].method == PAGES
    assert state.types["user"].method == DELTA_FIRST
