"""Group members and owners, application and service principal owners: ``$ref`` reads
and writes, typed listings, and ``@odata.bind`` on create and update.

Rules (Learn: group-post-members, group-post-owners, application-post-owners):
Microsoft 365 groups accept only users as members; security groups accept users, other
security groups and service principals; owners are users or service principals; at most
20 references per request; a duplicate is a 400; synced groups' membership is mastered
on-premises.
"""

from __future__ import annotations

from typing import Any

from graph_emulator import errors, objects
from graph_emulator.context import Ctx
from graph_emulator.http import Response, no_content
from graph_emulator.ids import is_guid
from graph_emulator.lifecycle import is_unified
from graph_emulator.listing import page
from graph_emulator.resources import BY_NAME, Resource
from graph_emulator.router import Handler, Router
from graph_emulator.store import Body
from graph_emulator.views import directory_item

BIND_LIMIT = 20
_COLLECTIONS = {
    "group": "groups",
    "application": "applications",
    "servicePrincipal": "servicePrincipals",
}
_LINKS = {
    "group": ("members", "owners"),
    "application": ("owners",),
    "servicePrincipal": ("owners",),
}
_CASTS = {
    "microsoft.graph.user": "user",
    "microsoft.graph.group": "group",
    "microsoft.graph.servicePrincipal": "servicePrincipal",
    "microsoft.graph.application": "application",
}
#: A listing of links to objects of several types: its resource only sets the dialect.
_DIRECTORY_OBJECTS = Resource(
    name="directoryObject", entity="directoryObject", context="directoryObjects", directory=True
)


def check_link(link: str, source_kind: str, source: Body, target_kind: str, target: Body) -> None:
    if source.get("onPremisesSyncEnabled") is True and link == "members":
        raise errors.synced_object()
    if link == "owners":
        if target_kind not in ("user", "servicePrincipal"):
            raise errors.bad_request(
                f"Object of type '{target_kind}' cannot be added as an owner; owners are users "
                "or service principals."
            )
        if source_kind == "group" and is_unified(source) and target_kind != "user":
            raise errors.bad_request("Microsoft 365 group owners must be users.")
        return
    if target["id"] == source["id"]:
        raise errors.bad_request("A group cannot be a member of itself.")
    if is_unified(source) and target_kind != "user":
        raise errors.bad_request("Microsoft 365 groups support only users as members.")
    if target_kind not in ("user", "group", "servicePrincipal"):
        raise errors.bad_request(f"Object of type '{target_kind}' cannot be a group member.")
    if target_kind == "group":
        if is_unified(target):
            raise errors.bad_request("Microsoft 365 groups cannot be nested in other groups.")
        if source.get("isAssignableToRole") is True:
            raise errors.bad_request("Groups cannot be members of a role-assignable group.")


def apply_binds(
    ctx: Ctx, kind: str, source: Body, binds: dict[str, list[str]]
) -> list[tuple[str, str]]:
    """Check every ``<link>@odata.bind`` reference; returns the links to add, so a
    create can add them once the object exists. Nothing is written on failure."""
    total = sum(len(urls) for urls in binds.values())
    if total > BIND_LIMIT:
        raise errors.bad_request(
            f"The request contains {total} references to add; at most {BIND_LIMIT} can be added "
            "in one request."
        )
    planned: list[tuple[str, str]] = []
    for link, urls in binds.items():
        if link not in _LINKS.get(kind, ()):
            raise errors.bad_request(f"Invalid property '{link}@odata.bind'.")
        for url in urls:
            target_kind, target = objects.reference_target(ctx, url)
            check_link(link, kind, source, target_kind, target)
            if (
                ctx.tenant.has_link(link, source["id"], target["id"])
                or (link, target["id"]) in planned
            ):
                raise errors.duplicate_reference(link)
            planned.append((link, target["id"]))
    return planned


def _source(ctx: Ctx, kind: str) -> Body:
    return objects.resolve(ctx, kind, ctx.params["id"])


def _targets(ctx: Ctx, link: str, source: Body, cast: str | None) -> list[str]:
    targets = ctx.tenant.link_targets(link, source["id"])
    if cast is not None:
        targets = [t for t in targets if ctx.tenant.directory.get(t) == cast]
    return sorted(targets)


def _lookup(ctx: Ctx) -> Any:
    def find(object_id: str) -> Body | None:
        found = ctx.tenant.directory_object(object_id)
        return found[1] if found else None

    return find


def _list(kind: str, link: str, cast: str | None = None) -> Handler:
    def handler(ctx: Ctx) -> Response:
        source = _source(ctx, kind)
        select = ctx.query.select
        if select is not None:
            props: set[str] = set()
            for k in ("user", "group", "servicePrincipal", "application"):
                props |= set(ctx.shapes.props(k))
            for name in select:
                if name not in props:
                    raise errors.unknown_query_property(name)
        fragment = f"directoryObjects/{cast}" if cast else "directoryObjects"

        def project(body: Body) -> dict[str, Any]:
            return directory_item(ctx, ctx.tenant.directory[body["id"]], body, select)

        return page(
            ctx,
            _DIRECTORY_OBJECTS,
            order=_targets(ctx, link, source, _CASTS.get(cast or "")),
            items=_lookup(ctx),
            project=project,
            context=ctx.metadata(fragment, select),
            scope=f"{link}:{source['id']}",
            type_names=("user", "group", "servicePrincipal", "application"),
        )

    return handler


def _list_refs(kind: str, link: str) -> Handler:
    def handler(ctx: Ctx) -> Response:
        source = _source(ctx, kind)

        def project(body: Body) -> dict[str, Any]:
            return {"@odata.id": ctx.object_url(ctx.tenant.directory[body["id"]], body["id"])}

        return page(
            ctx,
            _DIRECTORY_OBJECTS,
            order=_targets(ctx, link, source, None),
            items=_lookup(ctx),
            project=project,
            context=ctx.metadata("directoryObjects"),
            scope=f"{link}ref:{source['id']}",
        )

    return handler


def _count(kind: str, link: str) -> Handler:
    def handler(ctx: Ctx) -> Response:
        if not ctx.query.eventual:
            raise errors.count_not_supported()
        source = _source(ctx, kind)
        count = len(_targets(ctx, link, source, None))
        return Response(200, raw=str(count).encode(), content_type="text/plain;charset=utf-8")

    return handler


def _add(kind: str, link: str) -> Handler:
    def handler(ctx: Ctx) -> Response:
        source = _source(ctx, kind)
        target_kind, target = objects.reference_body_target(ctx)
        check_link(link, kind, source, target_kind, target)
        if ctx.tenant.has_link(link, source["id"], target["id"]):
            raise errors.duplicate_reference(link)
        ctx.tenant.add_link(link, source["id"], target["id"])
        return no_content()

    return handler


def _remove(ctx: Ctx, kind: str, link: str, target_key: str) -> Response:
    source = _source(ctx, kind)
    if link == "members" and source.get("onPremisesSyncEnabled") is True:
        raise errors.synced_object()
    target_id = target_key.lower()
    if not ctx.tenant.has_link(link, source["id"], target_id) or not ctx.tenant.is_active(
        target_id
    ):
        raise errors.not_found(target_key)
    last_owner = link == "owners" and len(ctx.tenant.link_targets("owners", source["id"])) == 1
    if last_owner and kind == "group" and is_unified(source):
        raise errors.bad_request(
            "The group must have at least one owner, hence this owner cannot be removed."
        )
    ctx.tenant.remove_link(link, source["id"], target_id)
    return no_content()


def _remove_by_id(kind: str, link: str) -> Handler:
    def handler(ctx: Ctx) -> Response:
        target = ctx.params["targetId"]
        if not is_guid(target):
            raise errors.invalid_object_id(target)
        return _remove(ctx, kind, link, target)

    return handler


def _remove_by_query(kind: str, link: str) -> Handler:
    def handler(ctx: Ctx) -> Response:
        # The SDKs send ``@id``; OData's own spelling, ``$id``, is accepted as well.
        url = ctx.request.param("@id") or ctx.request.param("$id")
        if not url:
            raise errors.bad_request("The '@id' query parameter is required to delete a reference.")
        _, target = objects.reference_target(ctx, url)
        return _remove(ctx, kind, link, target["id"])

    return handler


def register(router: Router) -> None:
    for kind, links in _LINKS.items():
        collection = _COLLECTIONS[kind]
        for link in links:
            base = f"/{collection}/{{id}}/{link}"
            router.add("GET", base, _list(kind, link))
            router.add("GET", f"{base}/$ref", _list_refs(kind, link))
            router.add("POST", f"{base}/$ref", _add(kind, link))
            router.add("DELETE", f"{base}/$ref", _remove_by_query(kind, link))
            router.add("GET", f"{base}/$count", _count(kind, link))
            router.add("DELETE", f"{base}/{{targetId}}/$ref", _remove_by_id(kind, link))
            for cast in _CASTS:
                router.add("GET", f"{base}/{cast}", _list(kind, link, cast))


__all__ = ["BY_NAME", "apply_binds", "check_link", "register"]
