"""Deciding how a snapshot is taken: full or incremental, and how each type is read."""

from __future__ import annotations

from rewind_common.registry import ALL_TYPES, get_type
from rewind_common.settings import Settings
from rewind_common.storage.snapshots import SnapshotRecord
from rewind_snapshotter.snapshot.state import (
    DELTA_CHANGES,
    DELTA_FIRST,
    PAGES,
    SnapshotState,
    TypeProgress,
)

FULL = "full"
INCREMENTAL = "incremental"


def choose_mode(requested: str | None, base: SnapshotRecord | None, settings: Settings) -> str:
    """Incremental when an earlier snapshot exists (unless full was asked for), full to
    start a new chain once the current one reaches ``incremental_chain_max`` segments."""
    if base is None or requested == FULL:
        return FULL
    if len(base.chain) >= settings.incremental_chain_max:
        return FULL
    return INCREMENTAL


def plan_snapshot(
    snapshot_id: str, requested: str | None, base: SnapshotRecord | None, settings: Settings
) -> SnapshotState:
    mode = choose_mode(requested, base, settings)
    state = SnapshotState(
        snapshot_id=snapshot_id,
        mode=mode,
        base_id=base.id if base else None,
        base_root=base.merkle_root if base else None,
        base_chain=[segment.to_document() for segment in base.chain] if base else [],
        base_delta_links=dict(base.delta_links) if base else {},
        expected_objects=base.entry_count if base else 0,
    )
    for object_type in ALL_TYPES:
        name = object_type.name
        link = state.base_delta_links.get(name) if mode == INCREMENTAL else None
        # A type the base lacks, or lacks the deleted objects of, is read whole again.
        trusted = (
            base is not None
            and name not in base.unread_types
            and name not in base.unread_deleted_items
        )
        if object_type.tracks_changes and link and trusted:
            state.types[name] = TypeProgress(name, DELTA_CHANGES, full=False, cursor=link)
            continue
        state.types[name] = TypeProgress(name, whole_read(name), full=True)
    return state


def whole_read(type_name: str) -> str:
    """How a type is read in full: its delta query's first round when that reads it
    whole, else a listing (which starts tracking from now when the type has a delta)."""
    return DELTA_FIRST if get_type(type_name).has_delta else PAGES
