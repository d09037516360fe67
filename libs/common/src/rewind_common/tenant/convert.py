"""Graph's JSON to object states: the stored body, the links, what a delta item says."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rewind_common.domain.normalize import KEPT_ANNOTATIONS
from rewind_common.domain.records import LinkValue, ObjectState, link_value
from rewind_common.registry import ObjectType
from rewind_common.tenant.model import DeltaItem, LinkOps

DELTA_SUFFIX = "@delta"


def object_id(object_type: ObjectType, raw: Mapping[str, Any]) -> str:
    value = raw.get(object_type.key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"a {object_type.name} from Graph has no {object_type.key}")
    return value


_LEFT_OUT: dict[str, frozenset[str]] = {}


def _left_out(object_type: ObjectType) -> frozenset[str]:
    found = _LEFT_OUT.get(object_type.name)
    if found is None:
        found = object_type.volatile | {link.navigation for link in object_type.links}
        _LEFT_OUT[object_type.name] = found
    return found


#: For each type and each set of property names Graph answered with, in order: the
#: names a stored body leaves out, and which of them are volatile. Objects of a type come
#: with the same few sets of names (the ones its ``$select`` asks for), so a body is a
#: copy less a few names.
_DROPPED: dict[tuple[str, tuple[str, ...]], tuple[tuple[str, ...], tuple[str, ...]]] = {}
_DROPPED_MAX = 4096


def _dropped(
    object_type: ObjectType, raw: Mapping[str, Any]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    names = tuple(raw)
    key = (object_type.name, names)
    found = _DROPPED.get(key)
    if found is None:
        left_out = _left_out(object_type)
        dropped = tuple(
            name
            for name in names
            if name in left_out or ("@" in name and name not in KEPT_ANNOTATIONS)
        )
        found = (dropped, tuple(name for name in dropped if name in object_type.volatile))
        if len(_DROPPED) < _DROPPED_MAX:
            _DROPPED[key] = found
    return found


def body_of(object_type: ObjectType, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The body a backup hashes: ``domain.normalize.normalize_body`` of what Graph
    returned, expanded relationships left out (they are links, not properties).

    The same rule as ``normalize_body``, decided once per set of property names: this
    runs for every object of every snapshot."""
    return parts_of(object_type, raw)[0]


def parts_of(
    object_type: ObjectType, raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``body_of(raw)`` and the volatile properties it leaves out that are set (kept
    beside it; see ``domain.normalize.volatile_part``)."""
    dropped, volatile_names = _dropped(object_type, raw)
    body = dict(raw)
    for name in dropped:
        del body[name]
    volatile = {}
    for name in volatile_names:
        value = raw[name]
        if value is not None:
            volatile[name] = value
    return body, volatile


def ids_of(items: Any) -> list[str]:
    """Ids of a list of directory objects (``[{"@odata.type", "id"}, ...]``)."""
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list):
        return []
    return [item["id"] for item in items if isinstance(item, Mapping) and "id" in item]


def state_of(
    object_type: ObjectType,
    raw: Mapping[str, Any],
    *,
    deleted: bool = False,
    links: Mapping[str, Iterable[str]] | None = None,
) -> ObjectState:
    resolved: dict[str, LinkValue] = {}
    for link in object_type.links:
        if links is not None and link.name in links:
            resolved[link.name] = link_value(list(links[link.name]), many=link.many)
    body, volatile = parts_of(object_type, raw)
    return ObjectState(
        type=object_type.name,
        object_id=object_id(object_type, raw),
        body=body,
        deleted=deleted,
        links=resolved,
        volatile=volatile,
    )


_DELTA_KEYS: dict[str, list[tuple[str, str]]] = {}


def _delta_keys(object_type: ObjectType) -> list[tuple[str, str]]:
    found = _DELTA_KEYS.get(object_type.name)
    if found is None:
        found = [(link.name, link.navigation + DELTA_SUFFIX) for link in object_type.links]
        _DELTA_KEYS[object_type.name] = found
    return found


def link_ops(object_type: ObjectType, raw: Mapping[str, Any]) -> dict[str, LinkOps]:
    """``members@delta`` and friends: additions, and removals marked ``@removed``."""
    found: dict[str, LinkOps] = {}
    for name, key in _delta_keys(object_type):
        entries = raw.get(key)
        if entries is not None:
            found[name] = _ops_of(entries)
    return found


def _ops_of(entries: Any) -> LinkOps:
    if type(entries) is list:
        try:
            # As Graph sends them: objects with an id, additions mostly.
            added = [str(e["id"]) for e in entries if "@removed" not in e]
            removed = (
                [str(e["id"]) for e in entries if "@removed" in e]
                if len(added) < len(entries)
                else []
            )
        except (TypeError, KeyError):
            added, removed = _sorted_out(entries)
    else:
        added, removed = _sorted_out(entries)
    return LinkOps(tuple(added), tuple(removed))


def _sorted_out(entries: Any) -> tuple[list[str], list[str]]:
    """Additions and removals of a link's delta entries, whatever their shape: a single
    object counts as a list of one, anything without an id is passed over."""
    if isinstance(entries, Mapping):
        entries = [entries]
    added: list[str] = []
    removed: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or "id" not in entry:
            continue
        (removed if "@removed" in entry else added).append(str(entry["id"]))
    return added, removed


def delta_item(object_type: ObjectType, raw: Mapping[str, Any]) -> DeltaItem:
    return delta_items(object_type, [raw])[0]


def delta_items(object_type: ObjectType, raws: Iterable[Mapping[str, Any]]) -> list[DeltaItem]:
    """What each item of a delta page says: the object as it now is with the changes of
    its links, or that it left the collection. ``delta_item`` of each, with what is the
    same for the whole page looked up once: a snapshot converts every object this way."""
    type_name = object_type.name
    delta_keys = _delta_keys(object_type)
    items: list[DeltaItem] = []
    for raw in raws:
        identifier = object_id(object_type, raw)
        removed = raw.get("@removed")
        if removed is not None:
            reason = removed.get("reason") if isinstance(removed, Mapping) else None
            items.append(
                DeltaItem(
                    type=type_name,
                    object_id=identifier,
                    state=None,
                    removed=str(reason or "deleted"),
                )
            )
            continue
        body, volatile = parts_of(object_type, raw)
        ops: dict[str, LinkOps] = {}
        for name, key in delta_keys:
            entries = raw.get(key)
            if entries is not None:
                ops[name] = _ops_of(entries)
        state = ObjectState(type_name, identifier, body, False, {}, volatile)
        items.append(DeltaItem(type_name, identifier, state, None, ops))
    return items
