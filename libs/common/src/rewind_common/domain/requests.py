"""The Graph requests a recovery sends, built from the registry.

URLs are relative to the version root (``/users/{id}``), which is what ``$batch`` needs and
what the Graph client prefixes with the tenant's base URL. Bodies hold only what Graph
accepts for the write at hand:

- updates (``PATCH``) carry the top-level properties that change, whole, so Graph's
  merge-or-replace behaviour for complex values cannot leave stale members behind;
  read-only, volatile, not-recoverable and create-only properties are never sent, and a
  type with derived entities (named locations) always carries its ``@odata.type``;
- child collections (authentication method configurations) are patched element by
  element at ``{parent}/{property}/{key}``;
- app roles and permission scopes are disabled before they are removed, in a first
  ``PATCH``, because Graph refuses to delete an enabled one;
- creates (``POST``) carry every writable property of the backup with empty values left
  out.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rewind_common.domain.equivalence import canonical_text, canonical_value, is_empty
from rewind_common.domain.paths import get_value, parse_path, set_value
from rewind_common.domain.records import JsonObject
from rewind_common.domain.remap import GRAPH, IdMap, resolve
from rewind_common.registry import Listing, ObjectType, SoftDelete


@dataclass(frozen=True)
class PlannedRequest:
    """One Graph request: method, URL relative to the version root, optional JSON body.
    URL and body may hold placeholders (:mod:`.remap`)."""

    method: str
    url: str
    body: JsonObject | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "body": copy.deepcopy(self.body)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlannedRequest:
        body = data.get("body")
        return cls(method=data["method"], url=data["url"], body=None if body is None else body)

    def resolved(
        self, id_map: IdMap, *, graph_base_url: str, password: str | None = None
    ) -> PlannedRequest:
        """This request with its placeholders filled in, ready to send."""
        url = resolve(self.url, id_map, graph_base_url=graph_base_url)
        body = resolve(self.body, id_map, graph_base_url=graph_base_url, password=password)
        return PlannedRequest(self.method, str(url), body)


# --- URLs -----------------------------------------------------------------------------


def collection_url(object_type: ObjectType, body: Mapping[str, Any]) -> str:
    """Where objects of the type are created; app role assignments live under their
    resource service principal (``resourceId``)."""
    if object_type.listing is Listing.PER_PARENT:
        return object_type.path.replace("{parentId}", str(body["resourceId"]))
    return object_type.path


def object_url(object_type: ObjectType, object_id: str, body: Mapping[str, Any]) -> str:
    """The URL of one object; a singleton's is the type's path."""
    if object_type.listing is Listing.SINGLETON:
        return object_type.path
    return f"{collection_url(object_type, body)}/{object_id}"


def restore_url(object_type: ObjectType, object_id: str) -> str:
    """The restore action for an object in its type's deleted items."""
    if object_type.soft_delete is SoftDelete.DIRECTORY:
        return f"/directory/deletedItems/{object_id}/restore"
    if object_type.soft_delete is SoftDelete.CONDITIONAL_ACCESS:
        collection = object_type.path.rsplit("/", 1)[1]
        return f"/identity/conditionalAccess/deletedItems/{collection}/{object_id}/restore"
    raise ValueError(f"{object_type.name} has no deleted items")


def directory_object_ref(object_id: str) -> str:
    """The absolute reference Graph wants in ``@odata.id`` and ``@odata.bind``."""
    return f"{GRAPH}/directoryObjects/{object_id}"


def user_ref(object_id: str) -> str:
    return f"{GRAPH}/users/{object_id}"


def target_of(reference: str) -> str:
    """The id at the end of an ``@odata.id`` URL or a ``…/{id}/$ref`` URL."""
    parts = [part for part in reference.split("/") if part and part != "$ref"]
    return parts[-1]


# --- update bodies --------------------------------------------------------------------

#: Collections whose elements Graph refuses to remove while they are enabled.
DISABLE_BEFORE_REMOVE: Mapping[str, tuple[str, ...]] = {
    "application": ("appRoles", "api.oauth2PermissionScopes"),
    "servicePrincipal": ("appRoles", "oauth2PermissionScopes"),
}


def writable_on_update(object_type: ObjectType, prop: str) -> bool:
    return prop != "@odata.type" and object_type.is_writable(prop)


def _sendable(after: Any, live: Any) -> Any:
    """``after`` as sent: a cleared collection becomes ``[]`` rather than ``null``, which
    Graph may refuse for a collection; everything else is sent as it is."""
    if after is None and isinstance(live, list):
        return []
    if isinstance(after, Mapping):
        live_map = live if isinstance(live, Mapping) else {}
        return {name: _sendable(value, live_map.get(name)) for name, value in after.items()}
    return copy.deepcopy(after)


def update_requests(
    object_type: ObjectType,
    url: str,
    live: Mapping[str, Any],
    after: Mapping[str, Any],
    properties: Sequence[str],
) -> tuple[list[PlannedRequest], list[str]]:
    """The PATCH requests taking ``live`` to ``after`` for the top-level ``properties``,
    and notes on what was left unchanged. ``properties`` must be writable on update."""
    notes: list[str] = []
    requests: list[PlannedRequest] = []
    child_requests: list[PlannedRequest] = []
    children = {child.property: child.key for child in object_type.children}
    parent: JsonObject = {}
    for prop in properties:
        if prop in children:
            found, child_notes = _child_requests(
                object_type, url, prop, children[prop], live.get(prop), after.get(prop)
            )
            child_requests.extend(found)
            notes.extend(child_notes)
        else:
            parent[prop] = _sendable(after.get(prop), live.get(prop))
    if parent:
        if object_type.derived_entities and "@odata.type" in after:
            parent = {"@odata.type": after["@odata.type"], **parent}
        pre = _disable_first(object_type, live, after, parent)
        if pre is not None:
            requests.append(PlannedRequest("PATCH", url, pre))
        requests.append(PlannedRequest("PATCH", url, parent))
    return requests + child_requests, notes


def _child_requests(
    object_type: ObjectType, url: str, prop: str, key: str, live: Any, after: Any
) -> tuple[list[PlannedRequest], list[str]]:
    live_items = {str(i.get(key)): i for i in live or [] if isinstance(i, Mapping)}
    requests: list[PlannedRequest] = []
    kept: set[str] = set()
    for item in after or []:
        if not isinstance(item, Mapping) or item.get(key) is None:
            continue
        item_key = str(item[key])
        kept.add(item_key)
        current = live_items.get(item_key, {})
        path = f"{prop}[]"
        if canonical_text(canonical_value(object_type, path, item)) == canonical_text(
            canonical_value(object_type, path, current)
        ):
            continue
        body: JsonObject = {name: _sendable(v, current.get(name)) for name, v in item.items()}
        body.pop(key, None)
        for name in current:
            if name not in item and name != key and not name.startswith("@"):
                body[name] = _sendable(None, current[name])
        requests.append(PlannedRequest("PATCH", f"{url}/{prop}/{item_key}", body))
    notes = [
        f"{prop}/{name} is not in the backup and cannot be deleted; it is left as it is"
        for name in sorted(set(live_items) - kept)
    ]
    return requests, notes


def _disable_first(
    object_type: ObjectType,
    live: Mapping[str, Any],
    after: Mapping[str, Any],
    body: Mapping[str, Any],
) -> JsonObject | None:
    """A first PATCH disabling the enabled elements the update removes, or ``None``."""
    pre: JsonObject = {}
    for path in DISABLE_BEFORE_REMOVE.get(object_type.name, ()):
        top = str(parse_path(path)[0])
        if top not in body:
            continue
        current = get_value(live, path) or []
        wanted_ids = {i.get("id") for i in get_value(after, path) or [] if isinstance(i, Mapping)}
        doomed = [
            i
            for i in current
            if isinstance(i, Mapping) and i.get("id") not in wanted_ids and i.get("isEnabled")
        ]
        if not doomed:
            continue
        disabled = [
            {**i, "isEnabled": False} if i in doomed else copy.deepcopy(i)
            for i in current
            if isinstance(i, Mapping)
        ]
        if top not in pre:
            pre[top] = copy.deepcopy(live.get(top)) if "." in path else None
        if "." in path:
            set_value(pre, path, disabled)
        else:
            pre[top] = disabled
    return pre or None


# --- create bodies --------------------------------------------------------------------


def create_body(object_type: ObjectType, backup: Mapping[str, Any]) -> JsonObject:
    """Every property of ``backup`` a create may carry, empty values left out at any
    depth (an unset value is what Graph creates anyway)."""
    return {
        name: _pruned(value)
        for name, value in backup.items()
        if object_type.is_writable(name, creating=True) and not is_empty(value)
    }


def _pruned(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {name: _pruned(item) for name, item in value.items() if not is_empty(item)}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


def missing_on_create(object_type: ObjectType, body: Mapping[str, Any]) -> list[str]:
    """Required create properties the body lacks (``passwordProfile`` is generated)."""
    return sorted(
        name
        for name in object_type.required_on_create
        if name not in body and name not in object_type.not_recoverable
    )


# --- links ----------------------------------------------------------------------------

#: Links Graph lets a PATCH add in bulk with ``<navigation>@odata.bind`` (Learn:
#: group-post-members, "add multiple members in one request"). Owners are added one
#: ``$ref`` POST at a time: that is the only form documented for groups, applications
#: and service principals.
BIND_ON_PATCH = frozenset({("group", "members")})


def link_requests(
    object_type: ObjectType,
    link_name: str,
    source: str,
    add: Iterable[str],
    remove: Iterable[str],
) -> list[PlannedRequest]:
    """Adds first (a group is never left without an owner on the way), then removes.

    ``source`` is the object's id (or its placeholder); targets may be placeholders.
    """
    link = object_type.link(link_name)
    base = f"{object_type.path}/{source}"
    adds, removes = sorted(add), sorted(remove)
    if not link.many:
        if adds:
            body = {"@odata.id": user_ref(adds[0])}
            return [PlannedRequest("PUT", f"{base}/{link.navigation}/$ref", body)]
        if removes:
            return [PlannedRequest("DELETE", f"{base}/{link.navigation}/$ref")]
        return []
    requests: list[PlannedRequest] = []
    if (object_type.name, link_name) in BIND_ON_PATCH:
        for start in range(0, len(adds), link.bind_limit):
            chunk = adds[start : start + link.bind_limit]
            bind = {f"{link.navigation}@odata.bind": [directory_object_ref(t) for t in chunk]}
            requests.append(PlannedRequest("PATCH", base, bind))
    else:
        for target in adds:
            body = {"@odata.id": directory_object_ref(target)}
            requests.append(PlannedRequest("POST", f"{base}/{link.navigation}/$ref", body))
    for target in removes:
        requests.append(PlannedRequest("DELETE", f"{base}/{link.navigation}/{target}/$ref"))
    return requests
