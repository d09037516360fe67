"""Where and how each registry type is read: paths, ``$select``, page sizes, links.

Everything here follows the registry; a type added there is read without a new code
path. Page sizes are Graph's documented maxima where a list accepts ``$top`` (999 for
users, groups, applications, service principals and deleted items); other lists are
paged at Graph's own size. A list that expands a relationship is asked for 100 objects
a page, the most Graph returns with ``$expand`` on directory objects.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from typing import Any

from rewind_common.registry import Link, Listing, ObjectType, SoftDelete, get_type

#: ``$top`` maxima of the lists that take one.
PAGE_MAXIMA: Mapping[str, int] = {
    "user": 999,
    "group": 999,
    "application": 999,
    "servicePrincipal": 999,
}
DELETED_ITEMS_MAXIMUM = 999
EXPAND_PAGE = 100
#: Graph returns at most this many objects of an expanded directory relationship, with
#: no nextLink ("Query parameter limitations", Graph known issues 13635).
EXPAND_ITEMS = 20
#: Parents read per unit of a per-parent listing (app role assignments per service
#: principal): small enough that a unit of work stays short.
PARENT_PAGE = 100

#: Relationships a type's delta query tracks when named in ``$select``: a user's
#: ``manager`` and a group's ``members`` (delta-query-overview.md: "$select also supports
#: manager and members navigation properties for users and groups respectively"), and a
#: group's other directoryObject-collection relationships such as ``owners``
#: (group-delta.md, v1.0, 2024-10-22: "You can additionally track other changes like
#: ownership ... Only the id property of the related resource is returned"). Nothing
#: documents owners in the delta of applications or service principals.
DELTA_TRACKED_LINKS: Mapping[str, tuple[str, ...]] = {
    "user": ("manager",),
    "group": ("members", "owners"),
}

#: Lists read in parts at the same time, each part a ``$filter`` on a property whose
#: values spread evenly over hexadecimal digits: a service principal's appId is a GUID,
#: and its filter takes startsWith (serviceprincipal.md: "Alternate key. Supports
#: $filter (eq, ne, not, in, startsWith)"). An application's appId takes only eq, so
#: applications are listed whole. A list expanding owners is paged at 100, one page
#: after another: in parts, a tenant's thousands of service principals take a few
#: round trips instead of dozens.
PARTITIONED_BY: Mapping[str, str] = {"servicePrincipal": "appId"}
_HEX_DIGITS = "0123456789abcdef"


def list_params(object_type: ObjectType, *, expand: Link | None = None) -> dict[str, str]:
    params: dict[str, str] = {}
    if object_type.select:
        params["$select"] = ",".join(object_type.select)
    if expand is not None:
        params["$expand"] = f"{expand.navigation}($select=id)"
        params["$top"] = str(EXPAND_PAGE)
    elif object_type.name in PAGE_MAXIMA:
        params["$top"] = str(PAGE_MAXIMA[object_type.name])
    return params


def expanded_link(object_type: ObjectType) -> Link | None:
    """The one relationship a listing expands (Graph expands one per request)."""
    if object_type.listing is not Listing.COLLECTION or not object_type.links:
        return None
    return object_type.links[0]


def deleted_path(object_type: ObjectType) -> str | None:
    if object_type.soft_delete is SoftDelete.DIRECTORY:
        return f"/directory/deletedItems/microsoft.graph.{object_type.entity}"
    if object_type.soft_delete is SoftDelete.CONDITIONAL_ACCESS:
        segment = object_type.path.rstrip("/").rsplit("/", 1)[-1]
        return f"/identity/conditionalAccess/deletedItems/{segment}"
    return None


def deleted_item_path(object_type: ObjectType, object_id: str) -> str | None:
    if object_type.soft_delete is SoftDelete.DIRECTORY:
        return f"/directory/deletedItems/{object_id}"
    path = deleted_path(object_type)
    return f"{path}/{object_id}" if path else None


def deleted_params(object_type: ObjectType) -> dict[str, str]:
    params: dict[str, str] = {}
    if object_type.select:
        params["$select"] = ",".join(object_type.select)
    if object_type.soft_delete is SoftDelete.DIRECTORY:
        params["$top"] = str(DELETED_ITEMS_MAXIMUM)
    return params


def item_path(object_type: ObjectType, object_id: str, parent_id: str | None = None) -> str:
    if object_type.listing is Listing.SINGLETON:
        return object_type.path
    path = object_type.path
    if object_type.listing is Listing.PER_PARENT:
        if parent_id is None:
            raise ValueError(f"reading a {object_type.name} by id needs its parent's id")
        path = path.replace("{parentId}", parent_id)
    return f"{path}/{object_id}"


def id_owner_paths(object_type: ObjectType, object_id: str) -> list[str]:
    """Where an object whose id begins with its owner's GUID is listed
    (``ObjectType.id_owner_paths``); none for an id that holds no GUID."""
    if not object_type.id_owner_paths:
        return []
    try:
        raw = base64.urlsafe_b64decode(object_id + "=" * (-len(object_id) % 4))
    except (binascii.Error, ValueError):
        return []
    if len(raw) < 16:
        return []
    owner = str(uuid.UUID(bytes_le=raw[:16]))
    return [path.replace("{ownerId}", owner) for path in object_type.id_owner_paths]


def link_path(object_type: ObjectType, object_id: str, link: Link) -> str:
    query = "$select=id" if not link.many else "$select=id&$top=999"
    return f"{object_type.path}/{object_id}/{link.navigation}?{query}"


def delta_params(object_type: ObjectType) -> dict[str, str]:
    params: dict[str, str] = {}
    if object_type.delta_filter is not None:
        params["$filter"] = object_type.delta_filter
    tracked = DELTA_TRACKED_LINKS.get(object_type.name, ())
    if object_type.select or tracked:
        navigations = [object_type.link(name).navigation for name in tracked]
        params["$select"] = ",".join([*object_type.select, *navigations])
    return params


def in_delta_of(object_type: ObjectType, raw: Mapping[str, Any]) -> bool:
    """Whether an item of a delta round is of the type (a round of a shared delta query
    also carries the other types its filter names). Per-type rounds leave items untyped."""
    declared = raw.get("@odata.type")
    if object_type.delta_filter is None or not isinstance(declared, str):
        return True
    name = declared.lstrip("#").removeprefix("microsoft.graph.")
    return name == object_type.entity or name in object_type.derived_entities


def list_parts(type_name: str) -> dict[str, str]:
    """The parts a type's listing is read in, as ``{part: $filter}`` (none: read whole).
    Together they cover every object once: a GUID starts with one hexadecimal digit
    (Graph's startsWith ignores case)."""
    prop = PARTITIONED_BY.get(type_name)
    if prop is None:
        return {}
    return {digit: f"startswith({prop},'{digit}')" for digit in _HEX_DIGITS}


def link_list_params(object_type: ObjectType, link: Link) -> dict[str, str]:
    """An id-only listing that expands one link (ids only), as long as Graph allows."""
    return {
        "$select": object_type.key,
        "$expand": f"{link.navigation}($select=id)",
        "$top": str(EXPAND_PAGE),
    }


def links_from_delta(type_name: str) -> tuple[str, ...]:
    return DELTA_TRACKED_LINKS.get(type_name, ())


def links_not_in_delta(type_name: str) -> tuple[Link, ...]:
    object_type = get_type(type_name)
    tracked = set(DELTA_TRACKED_LINKS.get(type_name, ()))
    return tuple(link for link in object_type.links if link.name not in tracked)


def with_query(path: str, params: Mapping[str, str]) -> str:
    if not params:
        return path
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return f"{path}{'&' if '?' in path else '?'}{query}"
