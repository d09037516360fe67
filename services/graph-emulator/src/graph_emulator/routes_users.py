"""``/users``: CRUD, manager, direct reports and group memberships.

Create rules (user-post-users.md): accountEnabled, displayName, mailNickname,
passwordProfile and userPrincipalName are required; the UPN's domain must be a verified
domain of the organization and the UPN unique; the password must meet Entra's
complexity rule (3 of 4 character classes, 8+ characters).
"""

from __future__ import annotations

import re
from typing import Any

from graph_emulator import builders, errors, lifecycle, objects
from graph_emulator.context import Ctx
from graph_emulator.http import Response, no_content
from graph_emulator.ids import timestamp
from graph_emulator.listing import page
from graph_emulator.resources import USER
from graph_emulator.router import Router
from graph_emulator.store import Body
from graph_emulator.views import add_expansions, check_expand, check_select, directory_item, project
from graph_emulator.writes import check_body, merge

_NICKNAME_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}$")


def verified_domains(ctx: Ctx) -> set[str]:
    org = ctx.tenant.singletons["organization"]
    return {str(d.get("name", "")).lower() for d in org.get("verifiedDomains") or ()}


def check_upn(ctx: Ctx, upn: str, current_id: str | None) -> None:
    local, at, domain = upn.rpartition("@")
    if not at or not local:
        raise errors.invalid_value("userPrincipalName", "User")
    if domain.lower() not in verified_domains(ctx):
        raise errors.bad_request(
            "The domain portion of the userPrincipalName property is invalid. You must use one "
            "of the verified domain names in your organization."
        )
    owner = ctx.tenant.users_by_upn.get(upn.lower())
    if owner is not None and owner != current_id:
        raise errors.bad_request(
            "Another object with the same value for property userPrincipalName already exists."
        )


def check_password(profile: Any) -> str | None:
    if not isinstance(profile, dict):
        return None
    password = profile.get("password")
    if password is None:
        return None
    classes = sum(
        bool(re.search(pattern, password))
        for pattern in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]")
    )
    if len(password) < 8 or len(password) > 256 or classes < 3:
        raise errors.bad_request(
            "The specified password does not comply with password complexity requirements. "
            "Please provide a different password."
        )
    return str(password)


def _project(ctx: Ctx, select: list[str] | None) -> Any:
    def run(body: Body) -> dict[str, Any]:
        out = project(ctx.shapes, USER, body, select)
        if ctx.query.expand:
            add_expansions(ctx, "user", body, out)
        return out

    return run


def list_users(ctx: Ctx) -> Response:
    select = check_select(ctx, USER)
    check_expand(ctx, "user")
    collection = ctx.tenant.collections["user"]
    max_top = 500 if select and "signInActivity" in select else USER.max_top
    return page(
        ctx,
        USER,
        order=collection.order,
        items=collection.items,
        project=_project(ctx, select),
        context=ctx.metadata("users", select),
        scope="user",
        max_top=max_top,
    )


def get_user(ctx: Ctx) -> Response:
    select = check_select(ctx, USER)
    check_expand(ctx, "user")
    body = objects.require(ctx, "user", ctx.params["id"])
    out = {"@odata.context": ctx.metadata("users", select, entity=True)}
    out.update(_project(ctx, select)(body))
    return Response(200, out)


def create_user(ctx: Ctx) -> Response:
    write = check_body(ctx, USER, existing=None)
    values = write.values
    upn = str(values["userPrincipalName"])
    check_upn(ctx, upn, None)
    nickname = str(values["mailNickname"])
    if not _NICKNAME_RE.match(nickname):
        raise errors.invalid_value("mailNickname", "User")
    password = check_password(values.pop("passwordProfile"))
    body = builders.user(ctx.shapes, values)
    # "when this user last changed their password or when their password was created"
    body["lastPasswordChangeDateTime"] = body["createdDateTime"]
    object_id = body["id"]
    ctx.tenant.insert("user", body)
    ctx.tenant.users_by_upn[upn.lower()] = object_id
    if password is not None:
        ctx.tenant.passwords[object_id] = password
    out = {"@odata.context": ctx.metadata("users", entity=True)}
    out.update(project(ctx.shapes, USER, body))
    return Response(201, out, headers={"Location": f"{ctx.base}/users/{object_id}"})


def update_user(ctx: Ctx) -> Response:
    existing = objects.require(ctx, "user", ctx.params["id"])
    write = check_body(ctx, USER, existing=existing)
    values = write.values
    password_changed = False
    if "passwordProfile" in values:
        password = check_password(values.pop("passwordProfile"))
        if password is not None:
            ctx.tenant.passwords[existing["id"]] = password
            password_changed = True
    if "userPrincipalName" in values:
        upn = values["userPrincipalName"]
        if upn is None:
            raise errors.invalid_value("userPrincipalName", "User")
        check_upn(ctx, str(upn), existing["id"])
    if values.get("mailNickname") is not None and not _NICKNAME_RE.match(
        str(values["mailNickname"])
    ):
        raise errors.invalid_value("mailNickname", "User")
    for required in ("displayName", "mailNickname", "accountEnabled"):
        if required in values and values[required] in (None, ""):
            raise errors.required_missing(required)
    if "userPrincipalName" in values:
        ctx.tenant.users_by_upn.pop(str(existing["userPrincipalName"]).lower(), None)
        ctx.tenant.users_by_upn[str(values["userPrincipalName"]).lower()] = existing["id"]
    if values or password_changed:
        updated = merge(ctx, "user", existing, values)
        if password_changed:
            updated["lastPasswordChangeDateTime"] = timestamp()
        ctx.tenant.update("user", existing["id"], updated)
    return no_content()


def delete_user(ctx: Ctx) -> Response:
    body = objects.require(ctx, "user", ctx.params["id"])
    lifecycle.delete(ctx.tenant, "user", body["id"])
    return no_content()


def get_manager(ctx: Ctx) -> Response:
    body = objects.require(ctx, "user", ctx.params["id"])
    manager = ctx.tenant.visible_manager(body["id"])
    found = ctx.tenant.directory_object(manager) if manager else None
    if found is None:
        raise errors.not_found("manager")
    select = check_select(ctx, USER)
    out = {"@odata.context": ctx.metadata("directoryObjects", select, entity=True)}
    out.update(directory_item(ctx, found[0], found[1], select))
    return Response(200, out)


def get_manager_ref(ctx: Ctx) -> Response:
    body = objects.require(ctx, "user", ctx.params["id"])
    manager = ctx.tenant.visible_manager(body["id"])
    if manager is None:
        raise errors.not_found("manager")
    return Response(
        200,
        {
            "@odata.context": ctx.metadata("directoryObjects/$ref"),
            "@odata.id": ctx.object_url("user", manager),
        },
    )


def set_manager(ctx: Ctx) -> Response:
    body = objects.require(ctx, "user", ctx.params["id"])
    if body.get("onPremisesSyncEnabled") is True:
        raise errors.synced_object()
    kind, manager = objects.reference_body_target(ctx)
    if kind != "user":
        raise errors.bad_request(
            "The manager of a user must be a user or an organizational contact."
        )
    if manager["id"] == body["id"]:
        raise errors.bad_request("A user cannot be their own manager.")
    if ctx.tenant.manager.get(body["id"]) != manager["id"]:
        ctx.tenant.set_manager(body["id"], manager["id"])
    return no_content()


def remove_manager(ctx: Ctx) -> Response:
    body = objects.require(ctx, "user", ctx.params["id"])
    if body.get("onPremisesSyncEnabled") is True:
        raise errors.synced_object()
    if ctx.tenant.visible_manager(body["id"]) is None:
        raise errors.not_found("manager")
    ctx.tenant.set_manager(body["id"], None)
    return no_content()


def _related(ctx: Ctx, ids: list[str], fragment: str, scope: str) -> Response:
    select = ctx.query.select

    def find(object_id: str) -> Body | None:
        found = ctx.tenant.directory_object(object_id)
        return found[1] if found else None

    def project_item(body: Body) -> dict[str, Any]:
        return directory_item(ctx, ctx.tenant.directory[body["id"]], body, select)

    return page(
        ctx,
        USER,
        order=sorted(i for i in ids if ctx.tenant.is_active(i)),
        items=find,
        project=project_item,
        context=ctx.metadata(fragment, select),
        scope=scope,
        type_names=("user", "group"),
    )


def direct_reports(ctx: Ctx) -> Response:
    body = objects.require(ctx, "user", ctx.params["id"])
    reports = list(ctx.tenant.reports.get(body["id"], ()))
    return _related(ctx, reports, "directoryObjects", f"reports:{body['id']}")


def member_of(ctx: Ctx) -> Response:
    body = objects.require(ctx, "user", ctx.params["id"])
    groups = list(ctx.tenant.reverse["members"].get(body["id"], ()))
    return _related(ctx, groups, "directoryObjects", f"memberOf:{body['id']}")


def register(router: Router) -> None:
    router.add("GET", "/users", list_users)
    router.add("POST", "/users", create_user)
    router.add("GET", "/users/{id}", get_user)
    router.add("PATCH", "/users/{id}", update_user)
    router.add("DELETE", "/users/{id}", delete_user)
    router.add("GET", "/users/{id}/manager", get_manager)
    router.add("GET", "/users/{id}/manager/$ref", get_manager_ref)
    router.add("PUT", "/users/{id}/manager/$ref", set_manager)
    router.add("DELETE", "/users/{id}/manager/$ref", remove_manager)
    router.add("GET", "/users/{id}/directReports", direct_reports)
    router.add("GET", "/users/{id}/memberOf", member_of)
