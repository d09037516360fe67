"""Delta queries for users, groups, applications, service principals and grants.

Behaviour from delta-query-overview.md, user-delta.md and group-delta.md:

- The first round pages through the objects that exist now (deleted ones are not
  returned); its last page carries ``@odata.deltaLink``. Later rounds return only what
  changed: updated objects with the same properties as the first round (a property never
  set is left out), ``@removed`` with reason ``changed`` for soft-deleted objects
  (restorable) and ``deleted`` for purged ones.
- ``$select`` chooses the tracked properties; relationships named in ``$select``
  (``members``, ``owners``, ``manager``) are reported as ``<name>@delta`` lists of
  ``{@odata.type, id}``, removals with ``@removed``. Without ``$select``, groups track
  ``members``.
- ``$filter`` only by id (``id eq`` / ``in`` / ``or``, up to 50); ``$top``, ``$expand``,
  ``$orderby`` and ``$count`` are not supported.
- ``$deltatoken=latest`` returns no objects and a deltaLink from now.
- An unknown or expired token: 400 ``syncStateNotFound``.
"""

from __future__ import annotations

import time
from typing import Any

from graph_emulator import errors, paging
from graph_emulator.context import Ctx
from graph_emulator.filters import id_values
from graph_emulator.http import Response
from graph_emulator.ids import is_guid
from graph_emulator.resources import (
    APPLICATION,
    GROUP,
    OAUTH2_PERMISSION_GRANT,
    SERVICE_PRINCIPAL,
    USER,
    Resource,
)
from graph_emulator.router import Handler, Router
from graph_emulator.store import Body

_DELTA: dict[str, tuple[Resource, str]] = {
    "user": (USER, "users"),
    "group": (GROUP, "groups"),
    "application": (APPLICATION, "applications"),
    "servicePrincipal": (SERVICE_PRINCIPAL, "servicePrincipals"),
    "oAuth2PermissionGrant": (OAUTH2_PERMISSION_GRANT, "oauth2PermissionGrants"),
}
LINKS: dict[str, tuple[str, ...]] = {
    "user": ("manager",),
    "group": ("members", "owners"),
    "application": ("owners",),
    "servicePrincipal": ("owners",),
    "oAuth2PermissionGrant": (),
    "appRoleAssignment": (),
}
MAX_FILTER_IDS = 50


def filtered_ids(ids: list[str], *, guids: bool) -> list[str]:
    """The ids of a delta query's ``$filter``, as Graph takes them: at most
    ``MAX_FILTER_IDS``, each a GUID where the resource's ids are (compared lowercase);
    other ids (grants' base64url) are case-sensitive."""
    if len(ids) > MAX_FILTER_IDS:
        raise errors.unsupported_query(
            f"The number of ids in the filter exceeds the maximum of {MAX_FILTER_IDS}."
        )
    for value in ids:
        if guids and not is_guid(value):
            raise errors.invalid_object_id(value)
    return [i.lower() if guids else i for i in ids]


class Round:
    """The state a token carries: what is tracked and where the round stands."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def select(self) -> list[str] | None:
        value = self.data.get("s")
        return list(value) if isinstance(value, list) else None

    @property
    def ids(self) -> set[str] | None:
        value = self.data.get("f")
        return set(value) if isinstance(value, list) else None


def decode_round(ctx: Ctx, kind: str, token: str) -> Round:
    data = paging.decode(token)
    if data is None or data.get("k") != kind or data.get("e") != ctx.tenant.epoch:
        raise errors.sync_state_not_found()
    return Round(data)


def check_options(ctx: Ctx) -> None:
    query = ctx.query
    for name, present in (
        ("$top", query.top is not None),
        ("$expand", bool(query.expand)),
        ("$orderby", query.orderby is not None),
        ("$count", query.count),
        ("$search", query.search is not None),
    ):
        if present:
            raise errors.unsupported_query(
                f"The query option '{name}' is not supported with delta."
            )


def _start(ctx: Ctx, kind: str, resource: Resource) -> dict[str, Any]:
    check_options(ctx)
    query = ctx.query
    select = query.select
    if select is not None:
        props = ctx.shapes.props(resource.entity)
        for name in select:
            if name not in props and name not in LINKS[kind]:
                raise errors.unknown_query_property(name)
    ids: list[str] | None = None
    if query.filter is not None:
        ids = id_values(query.filter.node)
        if ids is None:
            raise errors.unsupported_query(
                "Only filtering by id is supported with delta: $filter=id eq '...' [or ...]."
            )
        ids = filtered_ids(ids, guids=resource.directory and kind != "oAuth2PermissionGrant")
    return {"k": kind, "e": ctx.tenant.epoch, "s": select, "f": ids}


def _links_tracked(kind: str, select: list[str] | None) -> list[str]:
    if select is None:
        return ["members"] if kind == "group" else []
    return [link for link in LINKS[kind] if link in select]


def _properties(ctx: Ctx, resource: Resource, select: list[str] | None) -> list[str]:
    props = ctx.shapes.props(resource.entity)
    if select is None:
        return [
            n
            for n in props
            if (resource.defaults is None or n in resource.defaults)
            and n not in resource.never_returned
        ]
    return [n for n in select if n in props and n not in resource.never_returned]


def _link_entry(target_kind: str, target: str, removed: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"@odata.type": f"#microsoft.graph.{target_kind}", "id": target}
    if removed:
        entry["@removed"] = {"reason": "deleted"}
    return entry


def _current_targets(ctx: Ctx, link: str, object_id: str) -> list[str]:
    if link == "manager":
        manager = ctx.tenant.visible_manager(object_id)
        return [manager] if manager else []
    return ctx.tenant.link_targets(link, object_id)


def delta_item(
    ctx: Ctx,
    kind: str,
    resource: Resource,
    body: Body,
    state: Round,
    since: int | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _properties(ctx, resource, state.select):
        if name in body:
            out[name] = None if name == "passwordProfile" else body[name]
    out["id"] = body["id"]
    log = ctx.tenant.changes[kind]
    created_after = since is None or log.created.get(body["id"], 0) > since
    for link in _links_tracked(kind, state.select):
        entries: list[dict[str, Any]]
        current = _current_targets(ctx, link, body["id"])
        if created_after:
            entries = [_link_entry(ctx.tenant.directory.get(t, "user"), t, False) for t in current]
        else:
            touched: dict[str, str] = {}
            for event in log.links.get(body["id"], ()):
                if event.link == link and event.seq > (since or 0):
                    touched[event.target] = event.target_kind
            present = set(current)
            entries = [_link_entry(k, t, t not in present) for t, k in touched.items()]
        if entries:
            out[f"{link}@delta"] = entries
    return out


def delta_response(
    ctx: Ctx,
    collection: str,
    state: Round,
    values: list[dict[str, Any]],
    *,
    next_token: str | None,
    delta_token: str | None,
) -> Response:
    out: dict[str, Any] = {"@odata.context": ctx.metadata(collection, state.select)}
    if next_token is not None:
        out["@odata.nextLink"] = f"{ctx.base}/{collection}/delta?$skiptoken={next_token}"
    if delta_token is not None:
        out["@odata.deltaLink"] = f"{ctx.base}/{collection}/delta?$deltatoken={delta_token}"
    out["value"] = values
    return Response(200, out)


def _handler(kind: str) -> Handler:
    resource, collection = _DELTA[kind]

    def handler(ctx: Ctx) -> Response:
        query = ctx.query
        if query.skiptoken is not None:
            state = decode_round(ctx, kind, query.skiptoken)
        elif query.deltatoken is not None:
            if query.deltatoken == "latest":
                data = _start(ctx, kind, resource)
                data.update({"m": "c", "a": ctx.tenant.seq, "t": time.time()})
                token = paging.encode(data)
                return delta_response(
                    ctx, collection, Round(data), [], next_token=None, delta_token=token
                )
            state = decode_round(ctx, kind, query.deltatoken)
            if state.data.get("m") != "c":
                raise errors.sync_state_not_found()
            issued = float(state.data.get("t", 0.0))
            if time.time() - issued > ctx.config.delta_token_lifetime_seconds:
                raise errors.sync_state_not_found()
            # A deltaLink starts a round of changes since the sequence it recorded.
            state.data.update({"u": ctx.tenant.seq, "p": None})
        else:
            data = _start(ctx, kind, resource)
            data.update({"m": "i", "u": ctx.tenant.seq, "l": None})
            state = Round(data)
        if state.data.get("m") == "i":
            return _initial_page(ctx, kind, resource, collection, state)
        return _changes_page(ctx, kind, resource, collection, state)

    return handler


def _initial_page(
    ctx: Ctx, kind: str, resource: Resource, collection: str, state: Round
) -> Response:
    size = ctx.config.delta_page_size
    items = ctx.tenant.collections[kind].items
    last = state.data.get("l")
    ids = state.ids
    values: list[dict[str, Any]] = []
    more = False
    if ids is not None:
        candidates = iter(sorted(i for i in ids if last is None or i > last))
    else:
        candidates = ctx.tenant.collections[kind].order.after(last)
    last_id = last
    for object_id in candidates:
        body = items.get(object_id)
        if body is None:
            continue
        if len(values) == size:
            more = True
            break
        values.append(delta_item(ctx, kind, resource, body, state, None))
        last_id = object_id
    if more:
        token = paging.encode({**state.data, "l": last_id})
        return delta_response(ctx, collection, state, values, next_token=token, delta_token=None)
    done = {k: v for k, v in state.data.items() if k not in ("l", "u")}
    done.update({"m": "c", "a": state.data["u"], "t": time.time()})
    return delta_response(
        ctx, collection, state, values, next_token=None, delta_token=paging.encode(done)
    )


def _changes_page(
    ctx: Ctx, kind: str, resource: Resource, collection: str, state: Round
) -> Response:
    since = int(state.data["a"])
    upto = int(state.data["u"])
    position = state.data.get("p")
    after = since if position is None else int(position)
    size = ctx.config.delta_page_size
    tenant = ctx.tenant
    log = tenant.changes[kind]
    ids = state.ids
    changed = [(seq, i) for seq, i in log.since(after, upto) if ids is None or i in ids]
    if state.select is not None:
        names = set(state.select)
        links = set(_links_tracked(kind, state.select))
        changed = [c for c in changed if log.tracked_change(c[1], since, upto, names, links)]
    window = changed[:size]
    values: list[dict[str, Any]] = []
    col = tenant.collections[kind]
    for _, object_id in window:
        body = col.items.get(object_id)
        if body is not None:
            values.append(delta_item(ctx, kind, resource, body, state, since))
        elif object_id in col.deleted:
            values.append({"id": object_id, "@removed": {"reason": "changed"}})
        elif object_id in log.purged:
            values.append({"id": object_id, "@removed": {"reason": "deleted"}})
    if len(changed) > size:
        token = paging.encode({**state.data, "p": window[-1][0]})
        return delta_response(ctx, collection, state, values, next_token=token, delta_token=None)
    done = {k: v for k, v in state.data.items() if k not in ("p", "u")}
    done.update({"a": upto, "t": time.time()})
    return delta_response(
        ctx, collection, state, values, next_token=None, delta_token=paging.encode(done)
    )


def register(router: Router) -> None:
    for kind, (_, collection) in _DELTA.items():
        router.add("GET", f"/{collection}/delta", _handler(kind))
