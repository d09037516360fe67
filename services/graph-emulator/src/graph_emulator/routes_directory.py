"""``/directory/deletedItems``, ``/directoryObjects`` and ``/$metadata``.

Deleted items are listed by type only: "calling GET /directory/deletedItems without a
type is not supported" (directory-deleteditems-list.md). The SDK writes the type cast
with Graph's alias (``graph.user``), the docs with the namespace; both are accepted.
"""

from __future__ import annotations

from importlib import resources as package_files
from typing import Any

from graph_emulator import errors, lifecycle, objects
from graph_emulator.context import Ctx
from graph_emulator.http import Response, no_content
from graph_emulator.ids import is_guid
from graph_emulator.listing import count, page
from graph_emulator.resources import BY_NAME, DIRECTORY_KINDS, Resource
from graph_emulator.router import Handler, Router
from graph_emulator.store import Body
from graph_emulator.views import check_select, directory_item

_DIRECTORY_OBJECT = Resource(
    name="directoryObject", entity="directoryObject", context="directoryObjects", directory=True
)


def _deleted(ctx: Ctx) -> tuple[str, Body]:
    key = ctx.params["id"]
    if not is_guid(key):
        raise errors.invalid_object_id(key)
    kind = ctx.tenant.directory.get(key.lower())
    body = ctx.tenant.soft_deleted(kind, key.lower()) if kind else None
    if kind is None or body is None:
        raise errors.not_found(key)
    return kind, body


def _deleted_view(ctx: Ctx, kind: str, body: Body, select: list[str] | None) -> dict[str, Any]:
    out = directory_item(ctx, kind, body, select)
    if select is None:
        out["deletedDateTime"] = body.get("deletedDateTime")
    return out


def list_deleted_untyped(ctx: Ctx) -> Response:
    raise errors.bad_request(
        "The request is not supported: list deleted items of one type, for example "
        "/directory/deletedItems/microsoft.graph.user."
    )


def _list_deleted(kind: str) -> Handler:
    resource = BY_NAME[kind]

    def handler(ctx: Ctx) -> Response:
        select = check_select(ctx, resource)
        collection = ctx.tenant.collections[kind]
        return page(
            ctx,
            resource,
            order=collection.deleted_order,
            items=collection.deleted,
            project=lambda body: _deleted_view(ctx, kind, body, select),
            context=ctx.metadata(f"directory/deletedItems/microsoft.graph.{kind}", select),
            scope=f"deleted:{kind}",
        )

    return handler


def get_deleted(ctx: Ctx) -> Response:
    kind, body = _deleted(ctx)
    select = check_select(ctx, BY_NAME[kind])
    out = {"@odata.context": ctx.metadata("directory/deletedItems", select, entity=True)}
    out.update(_deleted_view(ctx, kind, body, select))
    return Response(200, out)


def restore_deleted(ctx: Ctx) -> Response:
    kind, body = _deleted(ctx)
    restored = lifecycle.restore(ctx.tenant, kind, body["id"])
    out = {"@odata.context": ctx.metadata("directoryObjects", entity=True)}
    out.update(directory_item(ctx, kind, restored, None))
    return Response(200, out)


def purge_deleted(ctx: Ctx) -> Response:
    kind, body = _deleted(ctx)
    lifecycle.purge(ctx.tenant, kind, body["id"])
    return no_content()


def _directory_object(ctx: Ctx) -> tuple[str, Body]:
    key = ctx.params["id"]
    if not is_guid(key):
        raise errors.invalid_object_id(key)
    found = ctx.tenant.directory_object(key.lower())
    if found is None:
        raise errors.not_found(key)
    return found


def get_directory_object(ctx: Ctx) -> Response:
    kind, body = _directory_object(ctx)
    select = check_select(ctx, BY_NAME[kind])
    out = {"@odata.context": ctx.metadata("directoryObjects", select, entity=True)}
    out.update(directory_item(ctx, kind, body, select))
    return Response(200, out)


def delete_directory_object(ctx: Ctx) -> Response:
    kind, body = _directory_object(ctx)
    lifecycle.delete(ctx.tenant, kind, body["id"])
    return no_content()


def get_by_ids(ctx: Ctx) -> Response:
    """``POST /directoryObjects/getByIds`` ``{"ids": [...], "types": [...]}``: at most
    1,000 ids; unknown ids are left out."""
    raw = ctx.json_body()
    if not isinstance(raw, dict) or not isinstance(raw.get("ids"), list):
        raise errors.required_missing("ids")
    ids = raw["ids"]
    if len(ids) > 1000:
        raise errors.bad_request("The request contains more than 1000 ids.")
    types = raw.get("types") or []
    wanted = (
        {str(t).removeprefix("microsoft.graph.") for t in types} if types else set(DIRECTORY_KINDS)
    )
    values = []
    for object_id in ids:
        if not isinstance(object_id, str) or not is_guid(object_id):
            raise errors.invalid_object_id(str(object_id))
        found = ctx.tenant.directory_object(object_id.lower())
        if found is not None and found[0] in wanted:
            values.append(directory_item(ctx, found[0], found[1], None))
    return Response(200, {"@odata.context": ctx.metadata("directoryObjects"), "value": values})


def get_metadata(ctx: Ctx) -> Response:
    data = package_files.files("graph_emulator").joinpath("data/v1.0-metadata.xml").read_bytes()
    return Response(200, raw=data, content_type="application/xml")


def _count(kind: str) -> Handler:
    def handler(ctx: Ctx) -> Response:
        return count(ctx, BY_NAME[kind], ctx.tenant.collections[kind].items)

    return handler


_COLLECTIONS = {
    "user": "users",
    "group": "groups",
    "application": "applications",
    "servicePrincipal": "servicePrincipals",
    "oAuth2PermissionGrant": "oauth2PermissionGrants",
}


def register(router: Router) -> None:
    for kind, collection in _COLLECTIONS.items():
        router.add("GET", f"/{collection}/$count", _count(kind))
    router.add("GET", "/directory/deletedItems", list_deleted_untyped)
    for kind in DIRECTORY_KINDS:
        router.add("GET", f"/directory/deletedItems/microsoft.graph.{kind}", _list_deleted(kind))
    router.add("GET", "/directory/deletedItems/{id}", get_deleted)
    router.add("DELETE", "/directory/deletedItems/{id}", purge_deleted)
    router.add("POST", "/directory/deletedItems/{id}/restore", restore_deleted)
    router.add("GET", "/directoryObjects/{id}", get_directory_object)
    router.add("DELETE", "/directoryObjects/{id}", delete_directory_object)
    router.add("POST", "/directoryObjects/getByIds", get_by_ids)
    router.add("GET", "/$metadata", get_metadata)


__all__ = ["_DIRECTORY_OBJECT", "objects", "register"]
