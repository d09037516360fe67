"""What a plan is computed from: the backup's states, the live tenant's, and a resolver
for live objects the plan only points at.

``build_plan`` requires ``live`` to hold every object in scope that exists (active or in
deleted items) with its links, the groups Conditional Access policies use (with their
members, for the break-glass check) and the break-glass users. A whole type in scope is
read whole; named objects are read by id, in O(N) requests. References that reach
outside those states (a scoped CA policy's excluded group, a grant's service principal)
are looked up once, by id or by appId, and answered from a set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rewind_common.domain.lineage import in_current_ids
from rewind_common.domain.records import ObjectState
from rewind_common.domain.references import find_references
from rewind_common.domain.scope import Scope
from rewind_common.domain.shapes import align_all
from rewind_common.graph.client import BatchRequest, GraphClient
from rewind_common.registry import Listing, get_type
from rewind_common.storage.manifest import Segment
from rewind_common.storage.snapshot_reader import SnapshotReader
from rewind_common.tenant import TenantReader

CA_POLICY = "conditionalAccessPolicy"
_CA_GROUP_LISTS = ("includeGroups", "excludeGroups")
#: Where an object can be found by its appId (Graph's alternate keys).
_APP_ID_PATHS = {
    "servicePrincipal": "/servicePrincipals(appId='{value}')",
    "application": "/applications(appId='{value}')",
}

Key = tuple[str, str]


@dataclass
class KnownLive:
    """A reference resolver over what was looked up: ``(type, by, value)`` of active
    objects (values compared case-insensitively, as Graph compares ids and appIds)."""

    found: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, type_name: str, by: str, value: str) -> None:
        self.found.add((type_name, by, value.casefold()))

    def exists_live(self, type: str, value: str, by: str) -> bool:
        return (type, by, value.casefold()) in self.found

    def will_exist(self, type: str, value: str, by: str) -> bool:
        return False


@dataclass
class PlanInputs:
    backup: list[ObjectState]
    live: list[ObjectState]
    resolver: KnownLive

    def live_by_key(self) -> dict[Key, ObjectState]:
        return {state.key: state for state in self.live}


async def _collect(states: Any) -> list[ObjectState]:
    return [state async for state in states]


async def load_inputs(
    chain: list[Segment],
    scope: Scope,
    *,
    snapshots: SnapshotReader,
    reader: TenantReader,
    graph: GraphClient,
    break_glass: Iterable[str] = (),
    lineage: Mapping[str, str] | None = None,
) -> PlanInputs:
    """``scope`` must already name re-created objects by both ids (``widen_scope``)."""
    stored_states: list[ObjectState] = []
    live: dict[Key, ObjectState] = {}
    for type_name in scope.object_types():
        ids = scope.ids(type_name)
        if ids is None:
            stored_states.extend(await _collect(snapshots.states(chain, type_name)))
            for state in await _collect(reader.states(type_name)):
                live[state.key] = state
            continue
        stored = await snapshots.get(chain, type_name, sorted(ids))
        stored_states.extend(stored.values())
        parents = {
            object_id: str(state.body["resourceId"])
            for object_id, state in stored.items()
            if isinstance(state.body.get("resourceId"), str)
        }
        found = await reader.get(type_name, sorted(ids), parents=parents)
        live.update({state.key: state for state in found.values()})
    backup = {state.key: state for state in in_current_ids(stored_states, lineage or {})}
    await _add_policy_groups(backup, live, reader)
    await _add_break_glass(break_glass, live, reader)
    resolver = await _resolve_outside(backup.values(), live, reader, graph)
    backup_states, live_states = align_all(backup.values(), live.values())
    return PlanInputs(backup_states, live_states, resolver)


async def _add_policy_groups(
    backup: Mapping[Key, ObjectState], live: dict[Key, ObjectState], reader: TenantReader
) -> None:
    """Groups Conditional Access policies include or exclude, with their members."""
    wanted: set[str] = set()
    for state in [*backup.values(), *live.values()]:
        if state.type != CA_POLICY:
            continue
        users = (state.body.get("conditions") or {}).get("users") or {}
        for name in _CA_GROUP_LISTS:
            wanted.update(str(g) for g in users.get(name) or [] if isinstance(g, str))
    missing = sorted(g for g in wanted if ("group", g) not in live)
    if missing:
        for state in (await reader.get("group", missing)).values():
            live[state.key] = state


async def _add_break_glass(
    configured: Iterable[str], live: dict[Key, ObjectState], reader: TenantReader
) -> None:
    entries = [entry.strip() for entry in configured if entry.strip()]
    known_ids = {key[1].casefold() for key in live if key[0] == "user"}
    known_upns = {
        str(s.body.get("userPrincipalName", "")).casefold()
        for s in live.values()
        if s.type == "user"
    }
    missing = [e for e in entries if e.casefold() not in known_ids | known_upns]
    if missing:
        for state in (await reader.get("user", missing)).values():
            live[state.key] = state


async def _resolve_outside(
    backup: Iterable[ObjectState],
    live: Mapping[Key, ObjectState],
    reader: TenantReader,
    graph: GraphClient,
) -> KnownLive:
    """Look up, once, every object the backup refers to that the live states lack."""
    by_id: dict[str, set[str]] = {}
    by_app_id: dict[str, set[str]] = {}
    for state in backup:
        object_type = get_type(state.type)
        for ref in find_references(object_type, state.body):
            if ref.by == "id":
                for target in ref.targets:
                    if (target, ref.value) not in live:
                        by_id.setdefault(target, set()).add(ref.value)
            elif ref.by == "appId":
                for target in ref.targets:
                    by_app_id.setdefault(target, set()).add(ref.value)
        for link in object_type.links:
            value = state.links.get(link.name)
            targets = [value] if isinstance(value, str) else list(value or ())
            for target_id in targets:
                for target in link.targets:
                    if (target, target_id) not in live:
                        by_id.setdefault(target, set()).add(target_id)
    resolver = KnownLive()
    for type_name, ids in sorted(by_id.items()):
        if get_type(type_name).listing is not Listing.COLLECTION:
            continue
        for state in (await reader.get(type_name, sorted(ids))).values():
            if not state.deleted:
                resolver.add(type_name, "id", state.object_id)
    for type_name, values in sorted(by_app_id.items()):
        known = {
            str(s.body.get("appId", "")).casefold()
            for s in live.values()
            if s.type == type_name and not s.deleted
        }
        await _lookup_app_ids(
            graph, type_name, sorted(v for v in values if v.casefold() not in known), resolver
        )
    return resolver


async def _lookup_app_ids(
    graph: GraphClient, type_name: str, values: list[str], resolver: KnownLive
) -> None:
    template = _APP_ID_PATHS.get(type_name)
    if template is None or not values:
        return
    requests = [
        BatchRequest(id=str(i), method="GET", url=template.format(value=value.replace("'", "''")))
        for i, value in enumerate(values)
    ]
    for result in await graph.batch(requests):
        if result.ok:
            resolver.add(type_name, "appId", values[int(result.id)])
