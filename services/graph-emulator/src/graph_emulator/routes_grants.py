"""``/oauth2PermissionGrants`` and app role assignments (``appRoleAssignedTo`` on the
resource service principal, ``appRoleAssignments`` on users, groups and service
principals: two views of the same objects).

- Only ``scope`` of a grant can change; a grant's id encodes client, resource and
  principal, so a second grant for the same three is a conflict.
- An assignment's app role must be one of the resource's roles allowed for the
  principal's type, or the default access role ``00000000-…``; assignments cannot be
  updated.
"""

from __future__ import annotations

from typing import Any

from graph_emulator import builders, errors, objects
from graph_emulator.context import Ctx
from graph_emulator.http import Response, no_content
from graph_emulator.ids import grant_id, is_guid
from graph_emulator.listing import page
from graph_emulator.resources import APP_ROLE_ASSIGNMENT, OAUTH2_PERMISSION_GRANT
from graph_emulator.router import Router
from graph_emulator.store import Body
from graph_emulator.views import check_select, project
from graph_emulator.writes import check_body, merge

DEFAULT_ACCESS = "00000000-0000-0000-0000-000000000000"
_CONSENT_TYPES = ("AllPrincipals", "Principal")
_PRINCIPAL_SEGMENTS = {"user": "users", "group": "groups", "servicePrincipal": "servicePrincipals"}


# -- grants ------------------------------------------------------------------------------


def list_grants(ctx: Ctx) -> Response:
    select = check_select(ctx, OAUTH2_PERMISSION_GRANT)
    collection = ctx.tenant.collections["oAuth2PermissionGrant"]
    return page(
        ctx,
        OAUTH2_PERMISSION_GRANT,
        order=collection.order,
        items=collection.items,
        project=lambda body: project(ctx.shapes, OAUTH2_PERMISSION_GRANT, body, select),
        context=ctx.metadata("oauth2PermissionGrants", select),
        scope="grant",
        count_required_header=True,
    )


def _grant(ctx: Ctx) -> Body:
    key = ctx.params["id"]
    body = ctx.tenant.active("oAuth2PermissionGrant", key)
    if body is None:
        raise errors.not_found(key)
    return body


def get_grant(ctx: Ctx) -> Response:
    select = check_select(ctx, OAUTH2_PERMISSION_GRANT)
    out = {"@odata.context": ctx.metadata("oauth2PermissionGrants", select, entity=True)}
    out.update(project(ctx.shapes, OAUTH2_PERMISSION_GRANT, _grant(ctx), select))
    return Response(200, out)


def create_grant(ctx: Ctx) -> Response:
    write = check_body(ctx, OAUTH2_PERMISSION_GRANT, existing=None)
    values = write.values
    for name in ("clientId", "resourceId", "principalId"):
        value = values.get(name)
        if value is not None and not is_guid(str(value)):
            raise errors.invalid_value(name, "OAuth2PermissionGrant")
    consent = values["consentType"]
    if consent not in _CONSENT_TYPES:
        raise errors.invalid_value("consentType", "OAuth2PermissionGrant")
    principal = values.get("principalId")
    if consent == "Principal" and not principal:
        raise errors.required_missing("principalId")
    if consent == "AllPrincipals" and principal:
        raise errors.invalid_value("principalId", "OAuth2PermissionGrant")
    for name in ("clientId", "resourceId"):
        found = ctx.tenant.directory_object(str(values[name]).lower())
        if found is None or found[0] != "servicePrincipal":
            raise errors.not_found(str(values[name]))
    if principal:
        found = ctx.tenant.directory_object(str(principal).lower())
        if found is None or found[0] != "user":
            raise errors.not_found(str(principal))
    object_id = grant_id(str(values["clientId"]), str(values["resourceId"]), principal)
    if ctx.tenant.active("oAuth2PermissionGrant", object_id) is not None:
        raise errors.GraphError(
            409, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists."
        )
    body: Body = {
        "clientId": values["clientId"],
        "consentType": consent,
        "id": object_id,
        "principalId": principal,
        "resourceId": values["resourceId"],
        "scope": values.get("scope") or "",
    }
    ctx.tenant.insert("oAuth2PermissionGrant", body)
    out = {"@odata.context": ctx.metadata("oauth2PermissionGrants", entity=True)}
    out.update(project(ctx.shapes, OAUTH2_PERMISSION_GRANT, body))
    return Response(
        201, out, headers={"Location": f"{ctx.base}/oauth2PermissionGrants/{object_id}"}
    )


def update_grant(ctx: Ctx) -> Response:
    existing = _grant(ctx)
    write = check_body(ctx, OAUTH2_PERMISSION_GRANT, existing=existing)
    if write.values:
        merged = merge(ctx, "oAuth2PermissionGrant", existing, write.values)
        ctx.tenant.update("oAuth2PermissionGrant", existing["id"], merged)
    return no_content()


def delete_grant(ctx: Ctx) -> Response:
    ctx.tenant.purge("oAuth2PermissionGrant", _grant(ctx)["id"])
    return no_content()


# -- app role assignments ----------------------------------------------------------------


def _principal_path(kind: str) -> Any:
    """Handlers for ``/{users|groups|servicePrincipals}/{id}/appRoleAssignments``."""

    def context(ctx: Ctx, source: Body, entity: bool = False) -> str:
        return ctx.metadata(
            f"{_PRINCIPAL_SEGMENTS[kind]}('{source['id']}')/appRoleAssignments", entity=entity
        )

    def list_(ctx: Ctx) -> Response:
        source = objects.require(ctx, kind, ctx.params["id"])
        return _list(
            ctx, ctx.tenant.assignments(principal=source["id"]), context(ctx, source), source["id"]
        )

    def create(ctx: Ctx) -> Response:
        source = objects.require(ctx, kind, ctx.params["id"])
        return _create(ctx, context(ctx, source, True), principal_id=source["id"])

    def get(ctx: Ctx) -> Response:
        source = objects.require(ctx, kind, ctx.params["id"])
        body = _assignment(ctx, lambda b: b["principalId"] == source["id"])
        return _one(ctx, body, context(ctx, source, True))

    def delete(ctx: Ctx) -> Response:
        source = objects.require(ctx, kind, ctx.params["id"])
        body = _assignment(ctx, lambda b: b["principalId"] == source["id"])
        ctx.tenant.remove_assignment(body["id"])
        return no_content()

    return list_, create, get, delete


def _resource_context(ctx: Ctx, source: Body, entity: bool = False) -> str:
    return ctx.metadata(f"servicePrincipals('{source['id']}')/appRoleAssignedTo", entity=entity)


def list_assigned_to(ctx: Ctx) -> Response:
    source = objects.resolve(ctx, "servicePrincipal", ctx.params["id"])
    return _list(
        ctx,
        ctx.tenant.assignments(resource=source["id"]),
        _resource_context(ctx, source),
        source["id"],
    )


def create_assigned_to(ctx: Ctx) -> Response:
    source = objects.resolve(ctx, "servicePrincipal", ctx.params["id"])
    return _create(ctx, _resource_context(ctx, source, True), resource_id=source["id"])


def get_assigned_to(ctx: Ctx) -> Response:
    source = objects.resolve(ctx, "servicePrincipal", ctx.params["id"])
    body = _assignment(ctx, lambda b: b["resourceId"] == source["id"])
    return _one(ctx, body, _resource_context(ctx, source, True))


def delete_assigned_to(ctx: Ctx) -> Response:
    source = objects.resolve(ctx, "servicePrincipal", ctx.params["id"])
    body = _assignment(ctx, lambda b: b["resourceId"] == source["id"])
    ctx.tenant.remove_assignment(body["id"])
    return no_content()


def _assignment(ctx: Ctx, belongs: Any) -> Body:
    key = ctx.params["assignmentId"]
    body = ctx.tenant.active("appRoleAssignment", key)
    if body is None or not belongs(body):
        raise errors.not_found(key)
    return body


def _one(ctx: Ctx, body: Body, context: str) -> Response:
    select = check_select(ctx, APP_ROLE_ASSIGNMENT)
    out = {"@odata.context": context}
    out.update(project(ctx.shapes, APP_ROLE_ASSIGNMENT, body, select))
    return Response(200, out)


def _list(ctx: Ctx, bodies: list[Body], context: str, source_id: str) -> Response:
    select = check_select(ctx, APP_ROLE_ASSIGNMENT)
    by_id = {b["id"]: b for b in bodies}
    return page(
        ctx,
        APP_ROLE_ASSIGNMENT,
        order=sorted(by_id),
        items=by_id,
        project=lambda body: project(ctx.shapes, APP_ROLE_ASSIGNMENT, body, select),
        context=context,
        scope=f"assignments:{source_id}",
    )


def _create(
    ctx: Ctx, context: str, *, principal_id: str | None = None, resource_id: str | None = None
) -> Response:
    write = check_body(ctx, APP_ROLE_ASSIGNMENT, existing=None)
    values = write.values
    if principal_id is not None and str(values["principalId"]).lower() != principal_id:
        raise errors.bad_request(
            "The principalId in the request body must match the principal in the URL."
        )
    if resource_id is not None and str(values["resourceId"]).lower() != resource_id:
        raise errors.bad_request(
            "The resourceId in the request body must match the resource in the URL."
        )
    found = ctx.tenant.directory_object(str(values["principalId"]))
    if found is None or found[0] not in builders.PRINCIPAL_TYPES:
        raise errors.not_found(str(values["principalId"]))
    principal_kind, principal = found
    # principalType is server-set, but the SAML tutorial sends it on create: Graph
    # accepts it when it names the principal's actual type.
    given_type = values.pop("principalType", None)
    if given_type is not None and given_type != builders.PRINCIPAL_TYPES[principal_kind]:
        raise errors.read_only("principalType")
    resource_found = ctx.tenant.directory_object(str(values["resourceId"]))
    if resource_found is None or resource_found[0] != "servicePrincipal":
        raise errors.not_found(str(values["resourceId"]))
    resource = resource_found[1]
    role_id = str(values["appRoleId"])
    if role_id != DEFAULT_ACCESS:
        role = next((r for r in resource.get("appRoles") or [] if r.get("id") == role_id), None)
        if role is None:
            raise errors.bad_request(
                f"Permission being assigned was not found on application '{resource.get('appId')}'."
            )
        wanted = "Application" if principal_kind == "servicePrincipal" else "User"
        if wanted not in (role.get("allowedMemberTypes") or []):
            raise errors.bad_request(
                f"The app role '{role_id}' cannot be assigned to a principal of type "
                f"'{builders.PRINCIPAL_TYPES[principal_kind]}'."
            )
    for existing in ctx.tenant.assignments(principal=principal["id"]):
        if existing["resourceId"] == resource["id"] and existing["appRoleId"] == role_id:
            raise errors.bad_request("Permission being assigned already exists on the object")
    body = builders.assignment(principal_kind, principal, resource, role_id)
    ctx.tenant.add_assignment(body)
    out = {"@odata.context": context}
    out.update(project(ctx.shapes, APP_ROLE_ASSIGNMENT, body))
    return Response(201, out)


def register(router: Router) -> None:
    router.add("GET", "/oauth2PermissionGrants", list_grants)
    router.add("POST", "/oauth2PermissionGrants", create_grant)
    router.add("GET", "/oauth2PermissionGrants/{id}", get_grant)
    router.add("PATCH", "/oauth2PermissionGrants/{id}", update_grant)
    router.add("DELETE", "/oauth2PermissionGrants/{id}", delete_grant)
    base = "/servicePrincipals/{id}/appRoleAssignedTo"
    router.add("GET", base, list_assigned_to)
    router.add("POST", base, create_assigned_to)
    router.add("GET", base + "/{assignmentId}", get_assigned_to)
    router.add("DELETE", base + "/{assignmentId}", delete_assigned_to)
    for kind, segment in _PRINCIPAL_SEGMENTS.items():
        list_, create, get, delete = _principal_path(kind)
        path = f"/{segment}/{{id}}/appRoleAssignments"
        router.add("GET", path, list_)
        router.add("POST", path, create)
        router.add("GET", path + "/{assignmentId}", get)
        router.add("DELETE", path + "/{assignmentId}", delete)
