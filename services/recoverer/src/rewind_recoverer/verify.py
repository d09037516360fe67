"""After applying: is the tenant back to the backup over what the recovery covered?

Every object in the recovery's scope, and every object the plan had an action for, is
read again and compared with the backup by the same diff the difference reports use: a
whole type in scope is read whole (an object created since the backup and still there is
a difference), named objects by id. A re-created object is compared under its old id,
and ids of re-created objects in live bodies and links are mapped back to the old ones,
so remapped references are not differences. What remains must be what the
recovery reported it could not do: an action that failed or was skipped, a property the
diff calls not recoverable (synced, secret, create-only) or Graph does not let an update
write. Anything else is an unexpected difference and makes the recovery end with
warnings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rewind_common.domain.changes import Change
from rewind_common.domain.diff import diff_object
from rewind_common.domain.lineage import backup_ids, in_current_ids
from rewind_common.domain.records import ObjectState
from rewind_common.domain.references import rewrite_links, rewrite_references
from rewind_common.domain.remap import IdMap
from rewind_common.domain.scope import Scope
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
    if not change.recoverable:
        return [], [f"({change.change.value})", *change.paths, *change.links]
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
    scope: Scope,
    snapshots: SnapshotReader,
    reader: TenantReader,
    id_map: IdMap,
    lineage: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The verification stored with the recovery (and shown as ``verification``).

    ``scope`` is the recovery's (widened) scope."""
    inverse = {new: old for old, new in id_map.entries.items()}
    lineage = lineage or {}
    reported: set[tuple[str, str]] = set()
    named: dict[str, set[str]] = {}
    parents: dict[str, str] = {}
    for document in actions:
        key = (str(document["type"]), str(document["objectId"]))
        named.setdefault(key[0], set()).add(key[1])
        if document.get("outcome") in ("failed", "skipped"):
            reported.add(key)
        before = document.get("before") or document.get("after") or {}
        if isinstance(before, Mapping) and isinstance(before.get("resourceId"), str):
            parents[id_map.get(key[1]) or key[1]] = str(before["resourceId"])
    whole: set[str] = set()
    for type_name in scope.object_types():
        ids = scope.ids(type_name)
        if ids is None:
            whole.add(type_name)
        else:
            # a re-created object is compared under its old id, which the scope also names
            named.setdefault(type_name, set()).update(i for i in ids if i not in inverse)
    sides = _Sides(chain, snapshots, reader, id_map, inverse, lineage)
    tally = _Tally()
    for type_name in sorted(whole | set(named)):
        if type_name in whole:
            pairs = await sides.whole_type(type_name)
        else:
            pairs = await sides.named(type_name, sorted(named[type_name]), parents)
        for old_id, new_id, backup, current in pairs:
            tally.check(type_name, old_id, new_id, backup, current, reported)
    return tally.result()


#: (backup id, live id, backup state, live state renamed to the backup's ids)
Pair = tuple[str, str, ObjectState | None, ObjectState | None]


@dataclass(frozen=True)
class _Sides:
    """Reads the backup and the live tenant for the comparison, live states named as the
    backup names them."""

    chain: list[Segment]
    snapshots: SnapshotReader
    reader: TenantReader
    id_map: IdMap
    inverse: Mapping[str, str]
    lineage: Mapping[str, str]

    async def whole_type(self, type_name: str) -> list[Pair]:
        stored = [state async for state in self.snapshots.states(self.chain, type_name)]
        backup = {s.object_id: s for s in in_current_ids(stored, self.lineage)}
        live: dict[str, ObjectState] = {}
        async for state in self.reader.states(type_name):
            old_id = self.inverse.get(state.object_id, state.object_id)
            live[old_id] = renamed(state, old_id, self.inverse)
        return [
            (old_id, self.id_map.get(old_id) or old_id, backup.get(old_id), live.get(old_id))
            for old_id in sorted(backup.keys() | live.keys())
        ]

    async def named(self, type_name: str, ids: list[str], parents: Mapping[str, str]) -> list[Pair]:
        stored = await self.snapshots.get(self.chain, type_name, backup_ids(ids, self.lineage))
        backup = {s.object_id: s for s in in_current_ids(stored.values(), self.lineage)}
        live_ids = [self.id_map.get(i) or i for i in ids]
        live = await self.reader.get(type_name, live_ids, parents=parents)
        pairs: list[Pair] = []
        for old_id, new_id in zip(ids, live_ids, strict=True):
            found = live.get(new_id)
            current = renamed(found, old_id, self.inverse) if found is not None else None
            pairs.append((old_id, new_id, backup.get(old_id), current))
        return pairs


class _Tally:
    def __init__(self) -> None:
        self.checked = self.unexpected = self.expected = 0
        self.differences: list[dict[str, Any]] = []

    def check(
        self,
        type_name: str,
        old_id: str,
        new_id: str,
        backup: ObjectState | None,
        current: ObjectState | None,
        reported: set[tuple[str, str]],
    ) -> None:
        self.checked += 1
        change = diff_object(*aligned(backup, current))
        if change is None:
            return
        unexpected, expected = residual(change, (type_name, old_id) in reported)
        self.unexpected += bool(unexpected)
        self.expected += bool(expected) and not unexpected
        if len(self.differences) < MAX_LISTED:
            self.differences.append(_entry(change, new_id, unexpected, expected))

    def result(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "clean": self.unexpected == 0,
            "unexpected": self.unexpected,
            "expected": self.expected,
            "differences": self.differences,
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
