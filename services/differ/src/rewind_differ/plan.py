"""Deciding what a report covers: one task per type in scope, in registry order."""

from __future__ import annotations

from rewind_common.domain.scope import Scope
from rewind_common.registry import IdFormat, get_type
from rewind_common.storage.snapshots import SnapshotRecord
from rewind_differ.state import COMPARE, LOAD, DiffState, TypeTask

#: Above this many objects a type of GUIDs is staged in buckets of two id characters
#: (256) rather than one (16).
WIDE_BUCKETS_FROM = 20_000
#: How many first characters ids of each format spread over: base64url ids (grants,
#: app role assignments) already make 64 buckets of one character.
_FIRST_CHARACTERS = {IdFormat.BASE64URL: 64}


def _wide(type_name: str, count: int) -> bool:
    spread = _FIRST_CHARACTERS.get(get_type(type_name).id_format, 16)
    return count * 16 > WIDE_BUCKETS_FROM * spread


def partial_types(
    scope: Scope, backup: SnapshotRecord, other: SnapshotRecord | None = None
) -> list[tuple[str, str]]:
    """(type, reason) for the types in scope a snapshot of the report holds without their
    deleted objects (Graph would not list them when it was taken): an object missing
    from it may have been in the recycle bin then, not absent or deleted for good."""
    found: list[tuple[str, str]] = []
    for name in scope.object_types():
        for record in (backup, other):
            if record is not None and name in record.unread_deleted_items:
                found.append(
                    (
                        name,
                        f"snapshot {record.id} holds no deleted {name} objects (Graph would "
                        "not list them): one missing from it may have been in its recycle bin",
                    )
                )
    return found


def plan_report(
    report_id: str,
    scope: Scope,
    backup: SnapshotRecord,
    other: SnapshotRecord | None = None,
) -> DiffState:
    """The report's tasks. A type the backup (or the other snapshot) does not hold, because
    its credentials could not read it, is skipped with the reason: comparing it would
    report every object as created or deleted."""
    state = DiffState(
        report_id=report_id,
        snapshot_id=backup.id,
        compare_to=other.id if other else None,
        phase=LOAD if other is None else COMPARE,
    )
    for name in scope.object_types():
        ids = scope.ids(name)
        task = TypeTask(
            name, ids=sorted(ids) if ids is not None else None, count=backup.counts.get(name, 0)
        )
        for record in (backup, other):
            if record is not None and task.skipped is None and name not in record.counts:
                task.skipped = (
                    f"snapshot {record.id} holds no {name} objects: its credentials could "
                    "not read them"
                )
        if other is not None:
            task.loaded = True
        if task.ids is None and _wide(name, backup.counts.get(name, 0)):
            task.bucket_width = 2
        state.expected += len(task.ids) if task.ids is not None else backup.counts.get(name, 0)
        state.tasks.append(task)
    return state
