"""Realistic object states built from the Graph documentation's own bodies."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rewind_common.domain.normalize import normalize_body
from rewind_common.domain.records import JsonObject, LinkValue, ObjectState
from rewind_common.registry import get_type

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "graph-doc-examples"

#: One documented body per type (a response, so it carries the object's id).
SAMPLE_FILES = {
    "user": "user-01-response.json",
    "group": "group-security-01-response.json",
    "application": "application-02-response.json",
    "servicePrincipal": "serviceprincipal-01-response.json",
    "namedLocation": "named-location-ip-01-response.json",
    "conditionalAccessPolicy": "ca-policy-get-01.json",
    "authorizationPolicy": "authorization-policy-01.json",
    "authenticationMethodsPolicy": "auth-methods-policy-01.json",
    "organization": "organization-01.json",
    "oAuth2PermissionGrant": "oauth2-permission-grant-01-response.json",
    "appRoleAssignment": "approleassignment-01-response.json",
}

#: Per type, a writable property an administrator (or an attacker) would change.
EDITS: dict[str, tuple[str, Any]] = {
    "user": ("jobTitle", "Head of Product Marketing"),
    "group": ("description", "Operations and on-call"),
    "application": ("web.redirectUris", ["https://attacker.example/callback"]),
    "servicePrincipal": ("appRoleAssignmentRequired", True),
    "namedLocation": ("isTrusted", True),
    "conditionalAccessPolicy": ("state", "enabled"),
    "authorizationPolicy": ("allowInvitesFrom", "adminsAndGuestInviters"),
    "authenticationMethodsPolicy": (
        "registrationEnforcement.authenticationMethodsRegistrationCampaign.snoozeDurationInDays",
        14,
    ),
    "organization": ("technicalNotificationMails", ["secops@contoso.com"]),
    "oAuth2PermissionGrant": ("scope", "User.Read.All Group.Read.All Mail.ReadWrite"),
    "appRoleAssignment": ("appRoleId", "00000000-0000-0000-0000-000000000000"),
}

#: Link values a backup of each linked type could hold.
LINKS: dict[str, dict[str, LinkValue]] = {
    "user": {"manager": "5bde3e51-d13b-4db1-9948-fe4b109d11a7"},
    "group": {
        "members": (
            "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
            "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2",
        ),
        "owners": ("5bde3e51-d13b-4db1-9948-fe4b109d11a7",),
    },
    "application": {"owners": ("87d349ed-44d7-43e1-9a83-5f2406dee5bd",)},
    "servicePrincipal": {"owners": ("87d349ed-44d7-43e1-9a83-5f2406dee5bd",)},
}


def load(name: str) -> JsonObject:
    """A documentation body, exactly as published."""
    data: JsonObject = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def body(type_name: str, file: str | None = None) -> JsonObject:
    """A documented body of the type, normalized as a backup stores it."""
    return normalize_body(get_type(type_name), load(file or SAMPLE_FILES[type_name]))


def state(
    type_name: str,
    data: JsonObject | None = None,
    *,
    deleted: bool = False,
    links: Mapping[str, LinkValue] | None = None,
) -> ObjectState:
    """An object state with the type's sample body (or ``data``) and sample links."""
    data = body(type_name) if data is None else data
    key = get_type(type_name).key
    return ObjectState(
        type=type_name,
        object_id=str(data[key]),
        body=data,
        deleted=deleted,
        links=copy.deepcopy(LINKS.get(type_name, {})) if links is None else links,
    )


def edited(data: JsonObject, path: str, value: Any) -> JsonObject:
    """A deep copy of ``data`` with ``path`` (dotted, no arrays) set to ``value``."""
    out = copy.deepcopy(data)
    target = out
    *parents, last = path.split(".")
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = value
    return out
