"""``/groups``: CRUD with ``members@odata.bind`` / ``owners@odata.bind``.

Create rules (group-post-groups.md): displayName, mailEnabled, mailNickname and
securityEnabled are required; Microsoft 365 groups have ``groupTypes: ["Unified"]`` and
are mail-enabled; Graph cannot create mail-enabled security groups or distribution
lists; a role-assignable group must be a security-enabled, non-dynamic group and is
private.
"""

from __future__ import annotations

import re
from typing import Any

from graph_emulator import builders, errors, lifecycle, objects
from graph_emulator.context import Ctx
from graph_emulator.http import Response, no_content
from graph_emulator.listing import page
from graph_emulator.resources import GROUP
from graph_emulator.router import Router
from graph_emulator.routes_links import apply_binds
from graph_emulator.store import Body
from graph_emulator.views import add_expansions, check_expand, check_select, project
from graph_emulator.writes import check_body, merge

_NICKNAME_RE = re.compile(r"^[!#$%&'*+\-/=?^_`{|}~A-Za-z0-9]{1,64}$")
_VISIBILITY = {"Public", "Private", "HiddenMembership"}


def _project(ctx: Ctx, select: list[str] | None) -> Any:
    def run(body: Body) -> dict[str, Any]:
        out = project(ctx.shapes, GROUP, body, select)
        if ctx.query.expand:
            add_expansions(ctx, "group", body, out)
        return out

    return run


def list_groups(ctx: Ctx) -> Response:
    select = check_select(ctx, GROUP)
    check_expand(ctx, "group")
    collection = ctx.tenant.collections["group"]
    return page(
        ctx,
        GROUP,
        order=collection.order,
        items=collection.items,
        project=_project(ctx, select),
        context=ctx.metadata("groups", select),
        scope="group",
    )


def get_group(ctx: Ctx) -> Response:
    select = check_select(ctx, GROUP)
    check_expand(ctx, "group")
    body = objects.require(ctx, "group", ctx.params["id"])
    out = {"@odata.context": ctx.metadata("groups", select, entity=True)}
    out.update(_project(ctx, select)(body))
    return Response(200, out)


def _check_kind(values: dict[str, Any], existing: Body | None) -> None:
    merged = {**(existing or {}), **values}
    group_types = merged.get("groupTypes") or []
    unified = "Unified" in group_types
    nickname = merged.get("mailNickname")
    if nickname is not None and not _NICKNAME_RE.match(str(nickname)):
        raise errors.invalid_value("mailNickname", "Group")
    if merged.get("mailEnabled") is True and not unified:
        raise errors.bad_request(
            "The service does not currently support writes of mail-enabled groups. Please "
            "ensure that the mail-enablement property is unset or set to false."
        )
    if unified and merged.get("mailEnabled") is not True:
        raise errors.bad_request("Microsoft 365 groups must be mail-enabled (mailEnabled: true).")
    if not unified and merged.get("securityEnabled") is not True and existing is None:
        raise errors.bad_request(
            "A group must be security-enabled or a Microsoft 365 group (groupTypes 'Unified')."
        )
    if "DynamicMembership" in group_types and not merged.get("membershipRule"):
        raise errors.required_missing("membershipRule")
    role_assignable = merged.get("isAssignableToRole") is True
    if role_assignable and (
        merged.get("securityEnabled") is not True or "DynamicMembership" in group_types
    ):
        raise errors.bad_request(
            "A role-assignable group must be security-enabled and cannot be dynamic."
        )
    visibility = merged.get("visibility")
    if visibility is not None and visibility not in _VISIBILITY:
        raise errors.invalid_value("visibility", "Group")


def create_group(ctx: Ctx) -> Response:
    write = check_body(ctx, GROUP, existing=None, allow_binds=("members", "owners"))
    values = write.values
    _check_kind(values, None)
    body = builders.group(ctx.shapes, values)
    object_id = body["id"]
    planned = apply_binds(ctx, "group", body, write.binds)
    ctx.tenant.insert("group", body)
    for link, target in planned:
        ctx.tenant.add_link(link, object_id, target)
    out = {"@odata.context": ctx.metadata("groups", entity=True)}
    out.update(project(ctx.shapes, GROUP, body))
    return Response(201, out, headers={"Location": f"{ctx.base}/groups/{object_id}"})


def update_group(ctx: Ctx) -> Response:
    existing = objects.require(ctx, "group", ctx.params["id"])
    write = check_body(ctx, GROUP, existing=existing, allow_binds=("members", "owners"))
    values = write.values
    for required in ("displayName", "mailNickname"):
        if required in values and values[required] in (None, ""):
            raise errors.required_missing(required)
    if values:
        _check_kind(values, existing)
    planned = apply_binds(ctx, "group", existing, write.binds)
    if values:
        ctx.tenant.update("group", existing["id"], merge(ctx, "group", existing, values))
    for link, target in planned:
        ctx.tenant.add_link(link, existing["id"], target)
    return no_content()


def delete_group(ctx: Ctx) -> Response:
    body = objects.require(ctx, "group", ctx.params["id"])
    lifecycle.delete(ctx.tenant, "group", body["id"])
    return no_content()


def register(router: Router) -> None:
    router.add("GET", "/groups", list_groups)
    router.add("POST", "/groups", create_group)
    router.add("GET", "/groups/{id}", get_group)
    router.add("PATCH", "/groups/{id}", update_group)
    router.add("DELETE", "/groups/{id}", delete_group)
