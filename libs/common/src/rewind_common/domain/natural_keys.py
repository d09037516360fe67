"""How to recognise a re-created object without knowing its new id.

A recovery stores each new id as soon as Graph returns it; the natural key covers the
one window where that cannot help (the process dies between Graph creating the object
and the id being stored). On resume, a live object matching the re-creation's natural
key, and not among the objects that already matched when the plan was made, is taken
to be the object the stopped run created.

========================= ===================================================== ======
type                      natural key                                            unique
========================= ===================================================== ======
user                      userPrincipalName                                      yes
group                     mailNickname and displayName                           no
application               uniqueName when set; else displayName, identifierUris  yes/no
                          and appRoles
servicePrincipal          appId                                                  yes
namedLocation             displayName and @odata.type                            no
conditionalAccessPolicy   displayName                                            no
oAuth2PermissionGrant     clientId, resourceId, consentType and principalId      yes
appRoleAssignment         principalId, resourceId and appRoleId                  yes
========================= ===================================================== ======

"Unique" keys are ones Graph enforces: a live object already holding one makes the
re-creation fail, so the planner reports the conflict instead of sending the request.
Values compare as the type's equivalence rules say (user principal names and mail
nicknames case-insensitively, unordered collections as sets).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from rewind_common.domain.equivalence import values_equivalent
from rewind_common.domain.records import ObjectState
from rewind_common.registry import get_type


@dataclass(frozen=True)
class NaturalKey:
    properties: tuple[str, ...]
    #: Graph refuses a second object with the same values.
    unique: bool


_KEYS: Mapping[str, NaturalKey] = {
    "user": NaturalKey(("userPrincipalName",), unique=True),
    "group": NaturalKey(("mailNickname", "displayName"), unique=False),
    "servicePrincipal": NaturalKey(("appId",), unique=True),
    "namedLocation": NaturalKey(("displayName", "@odata.type"), unique=False),
    "conditionalAccessPolicy": NaturalKey(("displayName",), unique=False),
    "oAuth2PermissionGrant": NaturalKey(
        ("clientId", "resourceId", "consentType", "principalId"), unique=True
    ),
    "appRoleAssignment": NaturalKey(("principalId", "resourceId", "appRoleId"), unique=True),
}
_UNIQUE_NAME = NaturalKey(("uniqueName",), unique=True)
_APPLICATION = NaturalKey(("displayName", "identifierUris", "appRoles"), unique=False)


def natural_key(type_name: str, body: Mapping[str, Any]) -> NaturalKey | None:
    """The natural key of an object of ``type_name`` about to be created with ``body``."""
    if type_name == "application":
        return _UNIQUE_NAME if body.get("uniqueName") else _APPLICATION
    return _KEYS.get(type_name)


def same_natural_key(type_name: str, wanted: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """Whether ``body`` (an existing object) matches the natural key of ``wanted``."""
    key = natural_key(type_name, wanted)
    if key is None:
        return False
    object_type = get_type(type_name)
    return all(
        values_equivalent(object_type, prop, wanted.get(prop), body.get(prop))
        for prop in key.properties
    )


class LiveLookup(Protocol):
    def find_live(self, type_name: str, by: str, value: str) -> list[ObjectState]: ...


def matching_live(
    lookup: LiveLookup, type_name: str, wanted: Mapping[str, Any]
) -> list[ObjectState]:
    """Active live objects matching the natural key of ``wanted`` (none while a key value
    is still a placeholder: nothing live can hold an id that does not exist yet)."""
    key = natural_key(type_name, wanted)
    if key is None:
        return []
    first = wanted.get(key.properties[0])
    if not isinstance(first, str) or "{{" in first:
        return []
    if any(isinstance(wanted.get(p), str) and "{{" in wanted[p] for p in key.properties):
        return []
    candidates = lookup.find_live(type_name, key.properties[0], first)
    return [s for s in candidates if same_natural_key(type_name, wanted, s.body)]
