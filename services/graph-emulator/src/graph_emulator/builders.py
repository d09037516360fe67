"""New object bodies with the values Entra sets itself, shared by the routes and the
tenant generator so generated objects look exactly like created ones.

Server-set values follow the documented create responses: a new application is
``AzureADandPersonalMicrosoftAccount`` with token version 2 and its implicit grant off;
a service principal copies its application's roles, scopes and reply URLs; Microsoft 365
groups get a mail address and are public.
"""

from __future__ import annotations

import random
from typing import Any

from graph_emulator.defaults import (
    DOMAIN_DEFAULT,
    DOMAIN_INITIAL,
    FIRST_PARTY,
    MICROSOFT_TENANT_ID,
    first_party_roles,
)
from graph_emulator.ids import new_guid, precise_timestamp, security_identifier, timestamp
from graph_emulator.schema import Shapes
from graph_emulator.store import Body


def _complete(shapes: Shapes, type_name: str, body: Body, values: dict[str, Any]) -> Body:
    """``values`` over ``body``: complex values merge into the defaults, then every complex
    value is completed from the metadata."""
    for name, value in values.items():
        current = body.get(name)
        if isinstance(value, dict) and isinstance(current, dict):
            value = _merge(current, value)
        body[name] = value
    complex_fields = shapes.complex_fields(type_name)
    for name in body.keys() & complex_fields.keys():
        value = body[name]
        if value is not None:
            body[name] = shapes.materialize_value_field(complex_fields[name], value)
    return body


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def user(
    shapes: Shapes,
    values: dict[str, Any],
    *,
    object_id: str | None = None,
    created: str | None = None,
) -> Body:
    object_id = object_id or new_guid()
    upn = str(values["userPrincipalName"])
    body: Body = {
        "id": object_id,
        "deletedDateTime": None,
        "businessPhones": [],
        "createdDateTime": created or timestamp(),
        "creationType": None,
        "identities": [
            {
                "signInType": "userPrincipalName",
                "issuer": upn.rpartition("@")[2],
                "issuerAssignedId": upn,
            }
        ],
        "mail": upn,
        "proxyAddresses": [f"SMTP:{upn}"],
        "securityIdentifier": security_identifier(object_id),
        "userType": "Member",
    }
    return _complete(shapes, "user", body, values)


def group(
    shapes: Shapes,
    values: dict[str, Any],
    *,
    object_id: str | None = None,
    created: str | None = None,
) -> Body:
    object_id = object_id or new_guid()
    now = created or timestamp()
    unified = "Unified" in (values.get("groupTypes") or [])
    mail = f"{values['mailNickname']}@{DOMAIN_DEFAULT}" if unified else None
    body: Body = {
        "id": object_id,
        "deletedDateTime": None,
        "createdDateTime": now,
        "groupTypes": [],
        "mail": mail,
        "proxyAddresses": [f"SMTP:{mail}"] if mail else [],
        "renewedDateTime": now,
        "resourceBehaviorOptions": [],
        "resourceProvisioningOptions": [],
        "securityIdentifier": security_identifier(object_id),
        "visibility": "Public" if unified else None,
    }
    if values.get("isAssignableToRole") is True:
        body["visibility"] = "Private"
    return _complete(shapes, "group", body, values)


def application(
    shapes: Shapes,
    values: dict[str, Any],
    *,
    object_id: str | None = None,
    app_id: str | None = None,
    created: str | None = None,
) -> Body:
    body: Body = {
        "id": object_id or new_guid(),
        "deletedDateTime": None,
        "appId": app_id or new_guid(),
        "applicationTemplateId": None,
        "createdDateTime": created or precise_timestamp(),
        "publisherDomain": DOMAIN_INITIAL,
        "signInAudience": "AzureADandPersonalMicrosoftAccount",
        "identifierUris": [],
        "tags": [],
        "addIns": [],
        "appRoles": [],
        "keyCredentials": [],
        "passwordCredentials": [],
        "requiredResourceAccess": [],
        "api": {
            "requestedAccessTokenVersion": 2,
            "knownClientApplications": [],
            "oauth2PermissionScopes": [],
            "preAuthorizedApplications": [],
        },
        "info": {},
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "publicClient": {"redirectUris": []},
        "spa": {"redirectUris": []},
        "verifiedPublisher": {},
        "web": {
            "redirectUris": [],
            "implicitGrantSettings": {
                "enableIdTokenIssuance": False,
                "enableAccessTokenIssuance": False,
            },
        },
    }
    return _complete(shapes, "application", body, values)


def service_principal(
    shapes: Shapes,
    values: dict[str, Any],
    *,
    tenant_id: str,
    app: Body | None,
    object_id: str | None = None,
    owner_tenant: str | None = None,
) -> Body:
    """A service principal for ``app`` (this tenant's application) or, when ``app`` is
    ``None``, for the first-party application ``values["appId"]`` names."""
    app_id = str(values["appId"])
    if app is not None:
        display_name = app.get("displayName")
        roles = list(app.get("appRoles") or [])
        scopes = list((app.get("api") or {}).get("oauth2PermissionScopes") or [])
        owner_tenant = owner_tenant or tenant_id
        audience = app.get("signInAudience")
        web = app.get("web") or {}
        reply_urls = list(web.get("redirectUris") or [])
        homepage = web.get("homePageUrl")
        names = [app_id, *(app.get("identifierUris") or [])]
        info = app.get("info") or {}
        template = app.get("applicationTemplateId")
    else:
        display_name = FIRST_PARTY[app_id]["displayName"]
        roles, scopes = first_party_roles(app_id)
        owner_tenant = MICROSOFT_TENANT_ID
        audience = "AzureADMultipleOrgs"
        reply_urls, homepage, names, info, template = [], None, [app_id], {}, None
    body: Body = {
        "id": object_id or new_guid(),
        "deletedDateTime": None,
        "accountEnabled": True,
        "alternativeNames": [],
        "appDisplayName": display_name,
        "appId": app_id,
        "applicationTemplateId": template,
        "appOwnerOrganizationId": owner_tenant,
        "appRoleAssignmentRequired": False,
        "displayName": display_name,
        "homepage": homepage,
        "info": info,
        "notificationEmailAddresses": [],
        "replyUrls": reply_urls,
        "servicePrincipalNames": names,
        "servicePrincipalType": "Application",
        "signInAudience": audience,
        "tags": [],
        "addIns": [],
        "appRoles": roles,
        "keyCredentials": [],
        "oauth2PermissionScopes": scopes,
        "passwordCredentials": [],
        "verifiedPublisher": {},
    }
    return _complete(
        shapes, "servicePrincipal", body, {k: v for k, v in values.items() if k != "appId"}
    )


PRINCIPAL_TYPES = {"user": "User", "group": "Group", "servicePrincipal": "ServicePrincipal"}


def assignment(
    principal_kind: str,
    principal: Body,
    resource: Body,
    app_role_id: str,
    *,
    rng: random.Random | None = None,
    created: str | None = None,
) -> Body:
    from graph_emulator.ids import assignment_id

    return {
        "id": assignment_id(principal["id"], rng),
        "deletedDateTime": None,
        "appRoleId": app_role_id,
        "createdDateTime": created or precise_timestamp(),
        "principalDisplayName": principal.get("displayName"),
        "principalId": principal["id"],
        "principalType": PRINCIPAL_TYPES[principal_kind],
        "resourceDisplayName": resource.get("displayName"),
        "resourceId": resource["id"],
    }


def ca_policy(
    shapes: Shapes,
    values: dict[str, Any],
    *,
    object_id: str | None = None,
    created: str | None = None,
) -> Body:
    conditions = dict(values.get("conditions") or {})
    conditions.setdefault("clientAppTypes", ["all"])
    body: Body = {
        "id": object_id or new_guid(),
        "createdDateTime": created or precise_timestamp(),
        "modifiedDateTime": None,
        "deletedDateTime": None,
        "templateId": None,
        "sessionControls": None,
        "grantControls": None,
    }
    return _complete(shapes, "conditionalAccessPolicy", body, {**values, "conditions": conditions})


def named_location(
    shapes: Shapes,
    values: dict[str, Any],
    odata_type: str,
    *,
    object_id: str | None = None,
    created: str | None = None,
) -> Body:
    now = created or precise_timestamp()
    body: Body = {
        "@odata.type": odata_type,
        "id": object_id or new_guid(),
        "createdDateTime": now,
        "modifiedDateTime": now,
        "deletedDateTime": None,
    }
    if odata_type.endswith("ipNamedLocation"):
        body.update({"isTrusted": False, "ipRanges": []})
    else:
        body.update(
            {
                "countriesAndRegions": [],
                "includeUnknownCountriesAndRegions": False,
                "countryLookupMethod": "clientIpAddress",
            }
        )
    return _complete(shapes, odata_type.lstrip("#"), body, values)
