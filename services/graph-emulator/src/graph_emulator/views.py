"""Response bodies: default property sets, ``$select``, ``$expand`` and full bodies."""

from __future__ import annotations

from typing import Any

from graph_emulator import errors
from graph_emulator.context import Ctx
from graph_emulator.resources import BY_NAME, Resource
from graph_emulator.schema import Shapes, default_of
from graph_emulator.store import Body

_EMPTY: tuple[()] = ()
_Pairs = list[tuple[str, Any]]
_cache: dict[tuple[str, str, tuple[str, ...] | None], _Pairs] = {}

#: Navigation properties ``$expand`` accepts, and whether each holds one object.
EXPANDABLE: dict[str, dict[str, bool]] = {
    "user": {"manager": True},
    "group": {"members": False, "owners": False},
    "application": {"owners": False},
    "servicePrincipal": {"owners": False},
}
#: Graph returns at most 20 objects of an expanded directory relationship, and pages
#: of at most 100 objects when a directory list expands anything.
EXPAND_ITEMS = 20
EXPAND_PAGE = 100


def type_of(resource: Resource, body: Body) -> str:
    annotation = body.get("@odata.type")
    if isinstance(annotation, str):
        return annotation.lstrip("#").removeprefix("microsoft.graph.")
    return resource.entity


def _pairs(shapes: Shapes, resource: Resource, type_name: str, select: list[str] | None) -> _Pairs:
    key = (resource.name, type_name, tuple(select) if select is not None else None)
    found = _cache.get(key)
    if found is not None:
        return found
    props = shapes.props(type_name)
    if select is None:
        names = [
            name
            for name in props
            if (resource.defaults is None or name in resource.defaults)
            and name not in resource.never_returned
        ]
        if "id" in names:
            names.remove("id")
            names.insert(0, "id")
    else:
        names = [n for n in select if n in props and n not in resource.never_returned]
    found = [(name, default_of(props[name])) for name in names]
    _cache[key] = found
    return found


def project(
    shapes: Shapes,
    resource: Resource,
    body: Body,
    select: list[str] | None = None,
    *,
    with_type: bool | None = None,
) -> dict[str, Any]:
    """``body`` as a GET returns it: the default set, or exactly the selected properties."""
    type_name = type_of(resource, body)
    out: dict[str, Any] = {}
    if with_type if with_type is not None else resource.polymorphic:
        out["@odata.type"] = "#microsoft.graph." + type_name
    get = body.get
    for name, default in _pairs(shapes, resource, type_name, select):
        out[name] = get(name, default)
    if "passwordProfile" in out:
        out["passwordProfile"] = None  # write-only: Graph never returns a password
    return out


def full_body(shapes: Shapes, resource: Resource, body: Body) -> dict[str, Any]:
    """Every property Graph returns for the object when all are selected."""
    type_name = type_of(resource, body)
    names = [n for n in shapes.props(type_name) if n not in resource.never_returned]
    return project(shapes, resource, body, names)


def directory_item(ctx: Ctx, kind: str, body: Body, select: list[str] | None) -> dict[str, Any]:
    """A directory object in a mixed collection (members, owners, deleted items):
    always typed."""
    return project(ctx.shapes, BY_NAME[kind], body, select, with_type=True)


def check_select(
    ctx: Ctx, resource: Resource, extra: frozenset[str] = frozenset()
) -> list[str] | None:
    select = ctx.query.select
    if select is None:
        return None
    props = ctx.shapes.props(resource.entity)
    for name in select:
        if name in props or name in extra:
            continue
        if resource.directory:
            raise errors.unknown_query_property(name)
        raise errors.odata_unknown_select(name, "microsoft.graph." + resource.entity)
    return select


def check_expand(ctx: Ctx, kind: str) -> None:
    allowed = EXPANDABLE.get(kind, {})
    for expand in ctx.query.expand:
        if expand.name not in allowed:
            if expand.name in ctx.shapes.navs(BY_NAME[kind].entity):
                raise errors.unsupported_query(
                    f"Expanding the navigation property '{expand.name}' is not supported."
                )
            raise errors.GraphError(
                400,
                "BadRequest",
                f"Could not find a property named '{expand.name}' on type "
                f"'microsoft.graph.{BY_NAME[kind].entity}'.",
            )
        if expand.select:
            for name in expand.select:
                if not any(
                    name in ctx.shapes.props(k) for k in ("user", "group", "servicePrincipal")
                ):
                    raise errors.unknown_query_property(name)


def add_expansions(ctx: Ctx, kind: str, body: Body, out: dict[str, Any]) -> None:
    tenant = ctx.tenant
    for expand in ctx.query.expand:
        if expand.name == "manager":
            manager = tenant.visible_manager(body["id"])
            found = tenant.directory_object(manager) if manager else None
            if found is not None:
                out["manager"] = directory_item(ctx, found[0], found[1], expand.select)
            continue
        items = []
        for target in tenant.link_targets(expand.name, body["id"])[:EXPAND_ITEMS]:
            found = tenant.directory_object(target)
            if found is not None:
                items.append(directory_item(ctx, found[0], found[1], expand.select))
        out[expand.name] = items
