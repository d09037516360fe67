"""``/applications``, ``/servicePrincipals`` and ``/applicationTemplates/{id}/instantiate``.

- ``passwordCredentials`` cannot be written on an application: "Using PATCH to set
  passwordCredential is not supported. Use addPassword and removePassword" (Learn
  application-update); a service principal accepts them (documented SAML setup).
- A service principal needs the ``appId`` of an application of this tenant or of a
  first-party application; one per ``appId``.
- ``applications(appId='…')`` and ``servicePrincipals(appId='…')`` are alternate keys.
"""

from __future__ import annotations

import secrets
from typing import Any

from graph_emulator import builders, errors, lifecycle, objects
from graph_emulator.context import Ctx
from graph_emulator.defaults import FIRST_PARTY
from graph_emulator.http import Response, no_content
from graph_emulator.ids import is_guid, new_guid, precise_timestamp
from graph_emulator.listing import page
from graph_emulator.resources import APPLICATION, SERVICE_PRINCIPAL, Resource
from graph_emulator.router import Handler, Router
from graph_emulator.store import Body
from graph_emulator.views import add_expansions, check_expand, check_select, project
from graph_emulator.writes import check_body, merge

_PASSWORD_WRITE_MESSAGE = (
    "Using PATCH to set passwordCredential is not supported. Use addPassword and "  # noqa: S105 (a message)
    "removePassword methods to update the password of an application."
)
_RESOURCES = {"application": APPLICATION, "servicePrincipal": SERVICE_PRINCIPAL}
_COLLECTION = {"application": "applications", "servicePrincipal": "servicePrincipals"}


def _projector(ctx: Ctx, kind: str, select: list[str] | None) -> Any:
    resource = _RESOURCES[kind]

    def run(body: Body) -> dict[str, Any]:
        out = project(ctx.shapes, resource, body, select)
        if ctx.query.expand:
            add_expansions(ctx, kind, body, out)
        return out

    return run


def _list(kind: str) -> Handler:
    resource = _RESOURCES[kind]

    def handler(ctx: Ctx) -> Response:
        select = check_select(ctx, resource)
        check_expand(ctx, kind)
        collection = ctx.tenant.collections[kind]
        return page(
            ctx,
            resource,
            order=collection.order,
            items=collection.items,
            project=_projector(ctx, kind, select),
            context=ctx.metadata(_COLLECTION[kind], select),
            scope=kind,
        )

    return handler


def _get(kind: str) -> Handler:
    resource = _RESOURCES[kind]

    def handler(ctx: Ctx) -> Response:
        select = check_select(ctx, resource)
        check_expand(ctx, kind)
        body = objects.resolve(ctx, kind, ctx.params["id"])
        out = {"@odata.context": ctx.metadata(_COLLECTION[kind], select, entity=True)}
        out.update(_projector(ctx, kind, select)(body))
        return Response(200, out)

    return handler


def _created(ctx: Ctx, kind: str, body: Body) -> Response:
    out = {"@odata.context": ctx.metadata(_COLLECTION[kind], entity=True)}
    out.update(project(ctx.shapes, _RESOURCES[kind], body))
    return Response(201, out, headers={"Location": f"{ctx.base}/{_COLLECTION[kind]}/{body['id']}"})


def create_application(ctx: Ctx, *, values_override: dict[str, Any] | None = None) -> Response:
    write = check_body(ctx, APPLICATION, existing=None)
    values = {**write.values, **(values_override or {})}
    if values.get("passwordCredentials"):
        raise errors.bad_request(_PASSWORD_WRITE_MESSAGE)
    _check_unique_name(ctx, values.get("uniqueName"), None)
    body = builders.application(ctx.shapes, values)
    ctx.tenant.insert("application", body)
    return _created(ctx, "application", body)


def _check_unique_name(ctx: Ctx, name: Any, current: str | None) -> None:
    if name is None:
        return
    for app in ctx.tenant.collections["application"].items.values():
        if app.get("uniqueName") == name and app["id"] != current:
            raise errors.GraphError(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                "Another object with the same value for property uniqueName already exists.",
            )


def _update(kind: str) -> Handler:
    resource = _RESOURCES[kind]

    def handler(ctx: Ctx) -> Response:
        key = ctx.params["id"]
        if kind == "application" and key.startswith("(uniqueName="):
            return _upsert(ctx, key)
        existing = objects.resolve(ctx, kind, key)
        write = check_body(ctx, resource, existing=existing)
        values = write.values
        if kind == "application" and "passwordCredentials" in values:
            raise errors.bad_request(_PASSWORD_WRITE_MESSAGE)
        if "displayName" in values and values["displayName"] in (None, ""):
            raise errors.required_missing("displayName")
        if values:
            ctx.tenant.update(kind, existing["id"], merge(ctx, resource.entity, existing, values))
        return no_content()

    return handler


def _upsert(ctx: Ctx, key: str) -> Response:
    """``PATCH /applications(uniqueName='x')``: update, or create when the ``Prefer:
    create-if-missing`` header asks for it (Learn application-upsert)."""
    name = key[len("(uniqueName=") : -1].strip("'")
    for app in ctx.tenant.collections["application"].items.values():
        if app.get("uniqueName") == name:
            ctx.params["id"] = app["id"]
            return _update("application")(ctx)
    prefer = (ctx.request.header("prefer") or "").lower()
    if "create-if-missing" not in prefer:
        raise errors.not_found(name)
    return create_application(ctx, values_override={"uniqueName": name})


def _delete(kind: str) -> Handler:
    def handler(ctx: Ctx) -> Response:
        body = objects.resolve(ctx, kind, ctx.params["id"])
        lifecycle.delete(ctx.tenant, kind, body["id"])
        return no_content()

    return handler


def create_service_principal(ctx: Ctx) -> Response:
    write = check_body(ctx, SERVICE_PRINCIPAL, existing=None)
    values = write.values
    app_id = str(values["appId"])
    app = next(
        (
            a
            for a in ctx.tenant.collections["application"].items.values()
            if a.get("appId") == app_id
        ),
        None,
    )
    if app is None and app_id not in FIRST_PARTY:
        raise errors.bad_request(
            f"The appId '{app_id}' of the service principal does not reference a valid "
            "application object."
        )
    for sp in ctx.tenant.collections["servicePrincipal"].items.values():
        if sp.get("appId") == app_id:
            raise errors.GraphError(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                "The service principal cannot be created, updated, or restored because the "
                f"service principal name {app_id} is already in use.",
            )
    body = builders.service_principal(ctx.shapes, values, tenant_id=ctx.tenant.tenant_id, app=app)
    ctx.tenant.insert("servicePrincipal", body)
    return _created(ctx, "servicePrincipal", body)


def instantiate_template(ctx: Ctx) -> Response:
    """``POST /applicationTemplates/{id}/instantiate``: a gallery application and its
    service principal, as the SAML single sign-on tutorial shows."""
    template_id = ctx.params["id"]
    if not is_guid(template_id):
        raise errors.invalid_object_id(template_id)
    raw = ctx.json_body()
    if not isinstance(raw, dict) or not isinstance(raw.get("displayName"), str):
        raise errors.required_missing("displayName")
    extra = set(raw) - {"displayName"}
    if extra:
        raise errors.bad_request(f"Invalid property '{sorted(extra)[0]}'.")
    roles = [
        {
            "allowedMemberTypes": ["User"],
            "description": name,
            "displayName": name,
            "id": new_guid(),
            "isEnabled": True,
            "origin": "Application",
            "value": None,
        }
        for name in ("User", "msiam_access")
    ]
    scope = {
        "adminConsentDescription": f"Allow the application to access {raw['displayName']} on "
        "behalf of the signed-in user.",
        "adminConsentDisplayName": f"Access {raw['displayName']}",
        "id": new_guid(),
        "isEnabled": True,
        "type": "User",
        "userConsentDescription": f"Allow the application to access {raw['displayName']} on "
        "your behalf.",
        "userConsentDisplayName": f"Access {raw['displayName']}",
        "value": "user_impersonation",
    }
    app = builders.application(
        ctx.shapes,
        {
            "displayName": raw["displayName"],
            "applicationTemplateId": template_id,
            "signInAudience": "AzureADMyOrg",
            "isFallbackPublicClient": False,
            "appRoles": roles,
            "api": {"requestedAccessTokenVersion": None, "oauth2PermissionScopes": [scope]},
        },
    )
    ctx.tenant.insert("application", app)
    sp = builders.service_principal(
        ctx.shapes,
        {
            "appId": app["appId"],
            "appRoleAssignmentRequired": True,
            "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
        },
        tenant_id=ctx.tenant.tenant_id,
        app=app,
    )
    ctx.tenant.insert("servicePrincipal", sp)
    return Response(
        201,
        {
            "@odata.context": ctx.metadata("microsoft.graph.applicationServicePrincipal"),
            "application": project(ctx.shapes, APPLICATION, app),
            "servicePrincipal": project(ctx.shapes, SERVICE_PRINCIPAL, sp),
        },
    )


def _add_password(kind: str) -> Handler:
    def handler(ctx: Ctx) -> Response:
        body = objects.resolve(ctx, kind, ctx.params["id"])
        raw = ctx.request.body.strip() and ctx.json_body()
        requested = raw.get("passwordCredential") if isinstance(raw, dict) else None
        requested = requested if isinstance(requested, dict) else {}
        secret = secrets.token_urlsafe(30)[:40]
        start = precise_timestamp()
        credential = ctx.shapes.materialize(
            "passwordCredential",
            {
                "customKeyIdentifier": None,
                "displayName": requested.get("displayName"),
                "endDateTime": requested.get("endDateTime") or "2099-12-31T00:00:00Z",
                "hint": secret[:3],
                "keyId": new_guid(),
                "secretText": secret,
                "startDateTime": requested.get("startDateTime") or start,
            },
        )
        stored = {**credential, "secretText": None}
        credentials = [*(body.get("passwordCredentials") or []), stored]
        ctx.tenant.update(kind, body["id"], {"passwordCredentials": credentials})
        out = {"@odata.context": ctx.metadata("microsoft.graph.passwordCredential")}
        out.update(credential)
        return Response(200, out)

    return handler


def _remove_password(kind: str) -> Handler:
    def handler(ctx: Ctx) -> Response:
        body = objects.resolve(ctx, kind, ctx.params["id"])
        raw = ctx.json_body()
        key_id = raw.get("keyId") if isinstance(raw, dict) else None
        credentials = body.get("passwordCredentials") or []
        kept = [c for c in credentials if c.get("keyId") != key_id]
        if not isinstance(key_id, str) or len(kept) == len(credentials):
            raise errors.bad_request(f"No password credential found with keyId '{key_id}'.")
        ctx.tenant.update(kind, body["id"], {"passwordCredentials": kept})
        return no_content()

    return handler


def register(router: Router) -> None:
    for kind in ("application", "servicePrincipal"):
        collection = _COLLECTION[kind]
        router.add("GET", f"/{collection}", _list(kind))
        router.add("GET", f"/{collection}/{{id}}", _get(kind))
        router.add("PATCH", f"/{collection}/{{id}}", _update(kind))
        router.add("DELETE", f"/{collection}/{{id}}", _delete(kind))
        router.add("POST", f"/{collection}/{{id}}/addPassword", _add_password(kind))
        router.add("POST", f"/{collection}/{{id}}/removePassword", _remove_password(kind))
    router.add("POST", "/applications", create_application)
    router.add("POST", "/servicePrincipals", create_service_principal)
    router.add("POST", "/applicationTemplates/{id}/instantiate", instantiate_template)


__all__ = ["Resource", "register"]
