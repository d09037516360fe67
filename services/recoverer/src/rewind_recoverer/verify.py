"""After applying: is the tenant back to the backup over what the recovery covered?

Each object the plan had an action for is read again and compared with the backup by
the same diff the difference reports use. A re-created object is compared under its old
id, and ids of re-created objects in live bodies and links are mapped back to the old
ones, so remapped references are not differences. What remains must be what the
recovery reported it could not do: an action that failed or was skipped, a property the
diff calls not recoverable (synced, secret, create-only) or Graph does not let an update
write. Anything else is an unexpected difference and makes the recovery end with
warnings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rewind_common.domain.changes import Change
from rewind_common.domain.diff import diff_object
from rewind_common.domain.lineage import backup_ids, in_current_ids
from rewind_common.domain.records import ObjectState
from rewind_common.domain.references import rewrite_links, rewrite_references
from rewind_common.domain.remap import IdMap
from rewind_common.domain.shapes import aligned
from rewind_common.registry import get_type
from rewind_common.storage.manifest import Segment
from rewind_common.storage.snapshot_reader import SnapshotReader
from rewind_common.tenant import TenantReader

MAX_LISTED = 100


def _top(path: str) -> str:
    cut = min((i for i in (path.find("."), path.find("[")) if i >= 0), default=len(path))
    return path[:cut]


def renamed(state: ObjectState, old_id: str, inverse: Mapping[str, str]) -> ObjectState:
    """A live state as the backup names things: under ``old_id``, with re-created
    objects' new ids turned back into their old ones."""
    object_type = get_type(state.type)
    body = rewrite_references(object_type, state.body, inverse) if inverse else dict(state.body)
    links = rewrite_links(state.links, inverse) if inverse else dict(state.links)
    return ObjectState(state.type, old_id, body, state.deleted, links)


def residual(change: Change, reported: bool) -> tuple[list[str], list[str]]:
    """The change's parts a completed recovery should have removed (unexpected) and the
    parts it said it could not (expected)."""
    if reported:
        return [], [*change.paths, *change.links]
    if change.action.value not in ("update", "links"):
        return [f"({change.change.value})"], []
    object_type = get_type(change.type)
    unexpected: list[str] = []
    expected: list[str] = []
    for prop in change.properties:
        writable = object_type.is_writable(_top(prop.path))
        (expected if not prop.recoverable or not writable else unexpected).append(prop.path)
    for name, link in change.links.items():
        (expected if not link.recoverable else unexpected).append(name)
    return unexpected, expected


async def verify(
    actions: Sequence[Mapping[str, Any]],
    chain: list[Segment],
    *,
    snapshots: SnapshotReader,
    reader: TenantReader,
    id_map: IdMap,
    lineage: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The verification stored with the recovery (and shown as ``verification``)."""
    inverse = {new: old for old, new in id_map.entries.items()}
    reported: set[tuple[str, str]] = set()
    keys: dict[str, set[str]] = {}
    parents: dict[str, str] = {}
    for document in actions:
        key = (str(document["type"]), str(document["objectId"]))
        keys.setdefault(key[0], set()).add(key[1])
        if document.get("outcome") in ("failed", "skipped"):
            reported.add(key)
        before = document.get("before") or document.get("after") or {}
        if isinstance(before, Mapping) and isinstance(before.get("resourceId"), str):
            parents[id_map.get(key[1]) or key[1]] = str(before["resourceId"])
    differences: list[dict[str, Any]] = []
    unexpected_count = expected_count = checked = 0
    for type_name in sorted(keys):
        ids = sorted(keys[type_name])
        stored = await snapshots.get(chain, type_name, backup_ids(ids, lineage or {}))
        backup = {s.object_id: s for s in in_current_ids(stored.values(), lineage or {})}
        live_ids = [id_map.get(i) or i for i in ids]
        live = await reader.get(type_name, live_ids, parents=parents)
        for old_id, new_id in zip(ids, live_ids, strict=True):
            checked += 1
            found = live.get(new_id)
            current = renamed(found, old_id, inverse) if found is not None else None
            change = diff_object(*aligned(backup.get(old_id), current))
            if change is None:
                continue
            unexpected, expected = residual(change, (type_name, old_id) in reported)
            unexpected_count += bool(unexpected)
            expected_count += bool(expected) and not unexpected
            if len(differences) < MAX_LISTED:
                differences.append(_entry(change, new_id, unexpected, expected))
    return {
        "checked": checked,
        "clean": unexpected_count == 0,
        "unexpected": unexpected_count,
        "expected": expected_count,
        "differences": differences,
    }


def _entry(
    change: Change, new_id: str, unexpected: Iterable[str], expected: Iterable[str]
) -> dict[str, Any]:
    return {
        "type": change.type,
        "objectId": change.object_id,
        "liveObjectId": new_id,
        "change": change.change.value,
        "unexpected": list(unexpected),
        "expected": list(expected),
        "reason": change.reason,
    }
