"""Tenant-wide singletons: ``/organization``, ``/policies/authorizationPolicy`` and
``/policies/authenticationMethodsPolicy`` with its method configurations.

None of them can be created or deleted (the SDK's generic ``delete`` on them answers
405). The methods policy returns its configurations inline; each configuration is
updated on its own path, and the policy's ``lastModifiedDateTime`` moves with it.
"""

from __future__ import annotations

from typing import Any

from graph_emulator import errors
from graph_emulator.context import Ctx
from graph_emulator.defaults import materialize_configuration
from graph_emulator.http import Response, no_content
from graph_emulator.ids import is_guid, precise_timestamp
from graph_emulator.listing import page
from graph_emulator.resources import (
    AUTHENTICATION_METHOD_CONFIGURATION,
    AUTHENTICATION_METHODS_POLICY,
    AUTHORIZATION_POLICY,
    ORGANIZATION,
    ORGANIZATION_WRITABLE,
)
from graph_emulator.router import Router
from graph_emulator.store import Body
from graph_emulator.views import check_select, project
from graph_emulator.writes import check_body, merge


def organization_body(ctx: Ctx) -> Body:
    return ctx.tenant.singletons["organization"]


def list_organization(ctx: Ctx) -> Response:
    select = check_select(ctx, ORGANIZATION)
    org = organization_body(ctx)
    return page(
        ctx,
        ORGANIZATION,
        order=[org["id"]],
        items={org["id"]: org},
        project=lambda body: project(ctx.shapes, ORGANIZATION, body, select),
        context=ctx.metadata("organization", select),
        scope="organization",
    )


def _organization(ctx: Ctx) -> Body:
    org = organization_body(ctx)
    key = ctx.params["id"]
    if key.lower() != org["id"]:
        if not is_guid(key):
            raise errors.invalid_object_id(key)
        raise errors.not_found(key)
    return org


def get_organization(ctx: Ctx) -> Response:
    select = check_select(ctx, ORGANIZATION)
    org = _organization(ctx)
    out = {"@odata.context": ctx.metadata("organization", select, entity=True)}
    out.update(project(ctx.shapes, ORGANIZATION, org, select))
    return Response(200, out)


def update_organization(ctx: Ctx) -> Response:
    org = _organization(ctx)
    write = check_body(ctx, ORGANIZATION, existing=org)
    for name in write.values:
        if name not in ORGANIZATION_WRITABLE:
            raise errors.read_only(name)
    org.update(merge(ctx, "organization", org, write.values))
    return no_content()


def get_authorization_policy(ctx: Ctx) -> Response:
    select = check_select(ctx, AUTHORIZATION_POLICY)
    body = ctx.tenant.singletons["authorizationPolicy"]
    out = {"@odata.context": ctx.metadata("policies/authorizationPolicy", select, entity=True)}
    out.update(project(ctx.shapes, AUTHORIZATION_POLICY, body, select))
    return Response(200, out)


def update_authorization_policy(ctx: Ctx) -> Response:
    body = ctx.tenant.singletons["authorizationPolicy"]
    write = check_body(ctx, AUTHORIZATION_POLICY, existing=body)
    body.update(merge(ctx, "authorizationPolicy", body, write.values))
    return no_content()


def methods_policy_view(ctx: Ctx, select: list[str] | None = None) -> dict[str, Any]:
    body = ctx.tenant.singletons["authenticationMethodsPolicy"]
    out = project(ctx.shapes, AUTHENTICATION_METHODS_POLICY, body, select)
    if select is None or "authenticationMethodConfigurations" in select:
        out["authenticationMethodConfigurations"] = [
            configuration_view(ctx, c) for c in ctx.tenant.method_configurations.values()
        ]
    return out


def configuration_view(ctx: Ctx, config: Body, select: list[str] | None = None) -> dict[str, Any]:
    out = project(ctx.shapes, AUTHENTICATION_METHOD_CONFIGURATION, config, select)
    if select is None or "includeTargets" in select:
        out["includeTargets"] = config.get("includeTargets", [])
    return out


def get_methods_policy(ctx: Ctx) -> Response:
    select = check_select(
        ctx, AUTHENTICATION_METHODS_POLICY, frozenset({"authenticationMethodConfigurations"})
    )
    out = {
        "@odata.context": ctx.metadata("policies/authenticationMethodsPolicy", select, entity=True)
    }
    out.update(methods_policy_view(ctx, select))
    return Response(200, out)


def update_methods_policy(ctx: Ctx) -> Response:
    body = ctx.tenant.singletons["authenticationMethodsPolicy"]
    write = check_body(ctx, AUTHENTICATION_METHODS_POLICY, existing=body)
    values = merge(ctx, "authenticationMethodsPolicy", body, write.values)
    values["lastModifiedDateTime"] = precise_timestamp()
    body.update(values)
    return no_content()


def _configuration(ctx: Ctx) -> Body:
    key = ctx.params["id"]
    for config_id, config in ctx.tenant.method_configurations.items():
        if config_id.lower() == key.lower():
            return config
    raise errors.not_found(key)


def list_configurations(ctx: Ctx) -> Response:
    select = check_select(ctx, AUTHENTICATION_METHOD_CONFIGURATION)
    configs = ctx.tenant.method_configurations
    return page(
        ctx,
        AUTHENTICATION_METHOD_CONFIGURATION,
        order=sorted(configs),
        items=configs,
        project=lambda body: configuration_view(ctx, body, select),
        context=ctx.metadata(
            "policies/authenticationMethodsPolicy/authenticationMethodConfigurations", select
        ),
        scope="methodConfigurations",
    )


def get_configuration(ctx: Ctx) -> Response:
    config = _configuration(ctx)
    select = check_select(ctx, AUTHENTICATION_METHOD_CONFIGURATION, frozenset({"includeTargets"}))
    out = {
        "@odata.context": ctx.metadata(
            "policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
            select,
            entity=True,
        )
    }
    out.update(configuration_view(ctx, config, select))
    return Response(200, out)


def update_configuration(ctx: Ctx) -> Response:
    config = _configuration(ctx)
    type_name = str(config["@odata.type"]).lstrip("#")
    raw = ctx.json_body()
    if (
        isinstance(raw, dict)
        and "@odata.type" in raw
        and raw["@odata.type"] != config["@odata.type"]
    ):
        annotation = str(raw["@odata.type"])
        if ctx.shapes.schema.qualified(annotation) != type_name:
            raise errors.GraphError(
                400,
                "BadRequest",
                f"The @odata.type '{annotation}' does not match the configuration "
                f"'{config['id']}' ({config['@odata.type']}).",
            )
    write = check_body(
        ctx,
        AUTHENTICATION_METHOD_CONFIGURATION,
        existing=config,
        type_name=type_name,
        navigations=("includeTargets",),
    )
    values = merge(ctx, type_name, config, write.values)
    if "includeTargets" in values:
        values["includeTargets"] = materialize_configuration(
            ctx.shapes, {"@odata.type": config["@odata.type"], "id": config["id"], **values}
        )["includeTargets"]
    config.update(values)
    ctx.tenant.singletons["authenticationMethodsPolicy"]["lastModifiedDateTime"] = (
        precise_timestamp()
    )
    return no_content()


def register(router: Router) -> None:
    router.add("GET", "/organization", list_organization)
    router.add("GET", "/organization/{id}", get_organization)
    router.add("PATCH", "/organization/{id}", update_organization)
    router.add("GET", "/policies/authorizationPolicy", get_authorization_policy)
    router.add("PATCH", "/policies/authorizationPolicy", update_authorization_policy)
    base = "/policies/authenticationMethodsPolicy"
    router.add("GET", base, get_methods_policy)
    router.add("PATCH", base, update_methods_policy)
    router.add("GET", f"{base}/authenticationMethodConfigurations", list_configurations)
    router.add("GET", f"{base}/authenticationMethodConfigurations/{{id}}", get_configuration)
    router.add("PATCH", f"{base}/authenticationMethodConfigurations/{{id}}", update_configuration)
