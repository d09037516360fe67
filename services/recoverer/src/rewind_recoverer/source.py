"""Where a recovery takes the tenant back to: a tenant snapshot, or a pre-recovery
snapshot (undoing an earlier recovery), and the scope it may cover.

A snapshot that could not read a type knows nothing about it: a recovery from it must
leave that type alone, or every live object of the type would look created since the
backup. A pre-recovery snapshot holds only what its recovery touched: a recovery from it
is limited to those objects for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType

from rewind_common.domain.changes import Change
from rewind_common.domain.scope import Scope
from rewind_common.errors import NotFound
from rewind_common.registry import type_names
from rewind_common.storage.manifest import Segment
from rewind_common.storage.pre_recovery import PreRecoverySnapshots
from rewind_common.storage.snapshot_record import SnapshotRecord


@dataclass(frozen=True)
class Source:
    snapshot_id: str
    chain: list[Segment]
    #: Objects the source knows about (a pre-recovery snapshot's), or None for all.
    limit: Scope | None = None
    #: Types the snapshot could not read: left out of every recovery from it.
    unread_types: tuple[str, ...] = ()
    partial: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


async def open_source(
    tenant_id: str,
    snapshot_id: str,
    *,
    pre_recovery: PreRecoverySnapshots,
) -> Source:
    found = await pre_recovery.find_any(snapshot_id, tenant_id)
    if isinstance(found, SnapshotRecord):
        return Source(
            snapshot_id=found.id,
            chain=found.chain,
            unread_types=tuple(found.unread_types),
        )
    if found is not None:
        partial = found
        return Source(
            snapshot_id=partial.id,
            chain=partial.chain,
            limit=partial.scope,
            partial=True,
            notes=(
                f"snapshot {partial.id} is the pre-recovery snapshot of recovery "
                f"{partial.recovery_id}: only the objects it holds are recovered",
            ),
        )
    raise NotFound(f"snapshot {snapshot_id} does not exist in tenant {tenant_id}")


def effective_scope(
    requested: Scope, source: Source, changes: Iterable[Change] | None = None
) -> Scope:
    """The objects a recovery covers: what was asked, within what the source knows and,
    from a difference report, what the report names."""
    scope = requested
    if source.unread_types:
        scope = _without_types(scope, set(source.unread_types))
    if source.limit is not None:
        scope = _within(scope, source.limit)
    if changes is not None:
        named: dict[str, set[str]] = {}
        for change in changes:
            named.setdefault(change.type, set()).add(change.object_id)
        scope = _within(scope, _objects(named))
    return scope


def _objects(named: dict[str, set[str]]) -> Scope:
    return Scope(objects=MappingProxyType({t: frozenset(ids) for t, ids in named.items()}))


def _without_types(scope: Scope, unread: set[str]) -> Scope:
    if scope.is_everything:
        return Scope(types=frozenset(n for n in type_names() if n not in unread))
    objects = {t: ids for t, ids in scope.objects.items() if t not in unread}
    types = frozenset(t for t in scope.types if t not in unread)
    return Scope(types=types, objects=MappingProxyType(objects))


def _within(scope: Scope, limit: Scope) -> Scope:
    """Objects of ``limit`` that ``scope`` includes (``limit`` names objects only)."""
    kept: dict[str, set[str]] = {}
    for type_name in limit.object_types():
        ids = limit.ids(type_name)
        if ids is None:
            continue
        chosen = {i for i in ids if scope.includes(type_name, i)}
        if chosen:
            kept[type_name] = chosen
    return _objects(kept)
