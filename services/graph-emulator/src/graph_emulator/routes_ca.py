"""Conditional Access policies and named locations, with their deleted items.

Both soft-delete to ``/identity/conditionalAccess/deletedItems/{policies,namedLocations}``
(v1.0 metadata: ``policyDeletableItem``, bound ``restore``), are restored with
``POST …/{id}/restore`` (200 and the object) and purged with ``DELETE …/{id}``.
Named locations are created and updated with an ``@odata.type`` naming
``ipNamedLocation`` or ``countryNamedLocation`` (conditionalaccessroot-post-namedlocations.md).
A named location a policy uses cannot be deleted.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from graph_emulator import builders, errors
from graph_emulator.context import Ctx
from graph_emulator.http import Response, no_content
from graph_emulator.ids import precise_timestamp
from graph_emulator.listing import page
from graph_emulator.resources import CONDITIONAL_ACCESS_POLICY, NAMED_LOCATION, Resource
from graph_emulator.router import Handler, Router
from graph_emulator.store import Body
from graph_emulator.views import check_select, project
from graph_emulator.writes import check_body, merge

_KINDS: dict[str, tuple[str, Resource]] = {
    "policies": ("conditionalAccessPolicy", CONDITIONAL_ACCESS_POLICY),
    "namedLocations": ("namedLocation", NAMED_LOCATION),
}
_LOCATION_TYPES = {
    "#microsoft.graph.ipNamedLocation",
    "#microsoft.graph.countryNamedLocation",
}


def _find(ctx: Ctx, kind: str, *, deleted: bool = False) -> Body:
    key = ctx.params["id"].lower()
    collection = ctx.tenant.collections[kind]
    body = (collection.deleted if deleted else collection.items).get(key)
    if body is None:
        raise errors.not_found(ctx.params["id"])
    return body


def _list(segment: str, *, deleted: bool = False) -> Handler:
    kind, resource = _KINDS[segment]
    prefix = "identity/conditionalAccess/" + ("deletedItems/" if deleted else "")

    def handler(ctx: Ctx) -> Response:
        select = check_select(ctx, resource)
        collection = ctx.tenant.collections[kind]
        return page(
            ctx,
            resource,
            order=collection.deleted_order if deleted else collection.order,
            items=collection.deleted if deleted else collection.items,
            project=lambda body: project(ctx.shapes, resource, body, select),
            context=ctx.metadata(prefix + segment, select),
            scope=f"ca:{segment}:{deleted}",
        )

    return handler


def _get(segment: str, *, deleted: bool = False) -> Handler:
    kind, resource = _KINDS[segment]
    prefix = "identity/conditionalAccess/" + ("deletedItems/" if deleted else "")

    def handler(ctx: Ctx) -> Response:
        select = check_select(ctx, resource)
        body = _find(ctx, kind, deleted=deleted)
        out = {"@odata.context": ctx.metadata(prefix + segment, select, entity=True)}
        out.update(project(ctx.shapes, resource, body, select))
        return Response(200, out)

    return handler


def _check_policy(values: dict[str, Any]) -> None:
    conditions = values.get("conditions")
    if (
        not isinstance(conditions, dict)
        or not conditions.get("users")
        or not conditions.get("applications")
    ):
        raise errors.GraphError(
            400,
            "BadRequest",
            "A Conditional Access policy needs conditions.users and conditions.applications.",
        )
    if values.get("grantControls") is None and values.get("sessionControls") is None:
        raise errors.GraphError(
            400, "BadRequest", "A Conditional Access policy needs grantControls or sessionControls."
        )


def _check_location(body: dict[str, Any]) -> None:
    if body.get("@odata.type") == "#microsoft.graph.ipNamedLocation":
        ranges = body.get("ipRanges") or []
        if not ranges:
            raise errors.GraphError(400, "BadRequest", "An IP named location needs ipRanges.")
        for item in ranges:
            cidr = item.get("cidrAddress")
            version = 4 if str(item.get("@odata.type", "")).endswith("iPv4CidrRange") else 6
            try:
                network = ipaddress.ip_network(str(cidr), strict=False)
            except ValueError:
                raise errors.GraphError(400, "BadRequest", f"Invalid IP range '{cidr}'.") from None
            if network.version != version:
                raise errors.GraphError(400, "BadRequest", f"Invalid IP range '{cidr}'.")


def create_policy(ctx: Ctx) -> Response:
    write = check_body(ctx, CONDITIONAL_ACCESS_POLICY, existing=None)
    _check_policy(write.values)
    body = builders.ca_policy(ctx.shapes, write.values)
    ctx.tenant.insert("conditionalAccessPolicy", body)
    out = {"@odata.context": ctx.metadata("identity/conditionalAccess/policies", entity=True)}
    out.update(project(ctx.shapes, CONDITIONAL_ACCESS_POLICY, body))
    return Response(201, out)


def create_location(ctx: Ctx) -> Response:
    raw = ctx.json_body()
    if isinstance(raw, dict) and raw.get("@odata.type") not in _LOCATION_TYPES:
        raise errors.GraphError(
            400,
            "BadRequest",
            "The @odata.type of a named location must be '#microsoft.graph.ipNamedLocation' "
            "or '#microsoft.graph.countryNamedLocation'.",
        )
    write = check_body(ctx, NAMED_LOCATION, existing=None)
    odata_type = write.odata_type or ""
    body = builders.named_location(ctx.shapes, write.values, odata_type)
    _check_location(body)
    ctx.tenant.insert("namedLocation", body)
    out = {"@odata.context": ctx.metadata("identity/conditionalAccess/namedLocations", entity=True)}
    out.update(project(ctx.shapes, NAMED_LOCATION, body))
    return Response(201, out)


def update_policy(ctx: Ctx) -> Response:
    existing = _find(ctx, "conditionalAccessPolicy")
    write = check_body(ctx, CONDITIONAL_ACCESS_POLICY, existing=existing)
    if "displayName" in write.values and not write.values["displayName"]:
        raise errors.required_missing("displayName")
    values = merge(ctx, "conditionalAccessPolicy", existing, write.values)
    _check_policy({**existing, **values})
    values["modifiedDateTime"] = precise_timestamp()
    ctx.tenant.update("conditionalAccessPolicy", existing["id"], values)
    return no_content()


def update_location(ctx: Ctx) -> Response:
    existing = _find(ctx, "namedLocation")
    raw = ctx.json_body()
    if isinstance(raw, dict) and raw.get("@odata.type") != existing["@odata.type"]:
        raise errors.GraphError(
            400,
            "BadRequest",
            f"The request must specify '@odata.type': '{existing['@odata.type']}' to update this "
            "named location.",
        )
    write = check_body(
        ctx, NAMED_LOCATION, existing=existing, type_name=existing["@odata.type"][1:]
    )
    if "displayName" in write.values and not write.values["displayName"]:
        raise errors.required_missing("displayName")
    values = merge(ctx, existing["@odata.type"][1:], existing, write.values)
    _check_location({**existing, **values})
    values["modifiedDateTime"] = precise_timestamp()
    ctx.tenant.update("namedLocation", existing["id"], values)
    return no_content()


def _uses_location(ctx: Ctx, location_id: str) -> bool:
    for policy in ctx.tenant.collections["conditionalAccessPolicy"].items.values():
        locations = ((policy.get("conditions") or {}).get("locations")) or {}
        for key in ("includeLocations", "excludeLocations"):
            if location_id in (locations.get(key) or ()):
                return True
    return False


def _delete(segment: str) -> Handler:
    kind, _ = _KINDS[segment]

    def handler(ctx: Ctx) -> Response:
        body = _find(ctx, kind)
        if kind == "namedLocation" and _uses_location(ctx, body["id"]):
            raise errors.GraphError(
                400,
                "BadRequest",
                "The named location is used by one or more Conditional Access policies and "
                "cannot be deleted.",
            )
        ctx.tenant.soft_delete(kind, body["id"], precise_timestamp())
        return no_content()

    return handler


def _restore(segment: str) -> Handler:
    kind, resource = _KINDS[segment]

    def handler(ctx: Ctx) -> Response:
        body = _find(ctx, kind, deleted=True)
        restored = ctx.tenant.restore(kind, body["id"])
        out = {"@odata.context": ctx.metadata(f"identity/conditionalAccess/{segment}", entity=True)}
        out.update(project(ctx.shapes, resource, restored))
        return Response(200, out)

    return handler


def _purge(segment: str) -> Handler:
    kind, _ = _KINDS[segment]

    def handler(ctx: Ctx) -> Response:
        body = _find(ctx, kind, deleted=True)
        ctx.tenant.purge(kind, body["id"])
        return no_content()

    return handler


def register(router: Router) -> None:
    base = "/identity/conditionalAccess"
    router.add("POST", f"{base}/policies", create_policy)
    router.add("PATCH", f"{base}/policies/{{id}}", update_policy)
    router.add("POST", f"{base}/namedLocations", create_location)
    router.add("PATCH", f"{base}/namedLocations/{{id}}", update_location)
    for segment in _KINDS:
        router.add("GET", f"{base}/{segment}", _list(segment))
        router.add("GET", f"{base}/{segment}/{{id}}", _get(segment))
        router.add("DELETE", f"{base}/{segment}/{{id}}", _delete(segment))
        deleted = f"{base}/deletedItems/{segment}"
        router.add("GET", deleted, _list(segment, deleted=True))
        router.add("GET", f"{deleted}/{{id}}", _get(segment, deleted=True))
        router.add("DELETE", f"{deleted}/{{id}}", _purge(segment))
        router.add("POST", f"{deleted}/{{id}}/restore", _restore(segment))
