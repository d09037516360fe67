"""Scope validation: clear errors for anything a client could get wrong."""

from __future__ import annotations

from typing import Any

import pytest

from rewind_common.domain.scope import MAX_SCOPE_IDS, Scope
from rewind_common.errors import InvalidScope
from rewind_common.registry import type_names

USER_ID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
GRANT_ID = "47nZsM8O_UuNq5Jz3QValETpqX7OcT1EgRxx6AR7VXqdkr0_VoxiRIUeDrmns6Kl"
ASSIGNMENT_ID = "-WmtM5na7Uus0D8kI1yylpU9Mdo0Pb9OoBJvd3T5eKc"


def test_absent_scope_is_everything() -> None:
    scope = Scope.from_dict(None)

    assert scope.is_everything
    assert scope.object_types() == type_names()
    assert scope.includes("user", USER_ID)
    assert scope.to_dict() is None


def test_types_scope() -> None:
    scope = Scope.from_dict({"types": ["group", "user", "user"]})

    assert scope.object_types() == ("user", "group")
    assert scope.includes("user", USER_ID)
    assert not scope.includes("application", USER_ID)
    assert scope.to_dict() == {"types": ["user", "group"]}


def test_objects_scope_collapses_duplicates_and_case() -> None:
    scope = Scope.from_dict(
        {
            "objects": [
                {"type": "user", "ids": [USER_ID, USER_ID.upper()]},
                {"type": "oAuth2PermissionGrant", "ids": [GRANT_ID]},
                {"type": "user", "ids": [USER_ID]},
            ]
        }
    )

    assert scope.id_count == 2
    assert scope.includes("user", USER_ID.upper())
    assert not scope.includes("user", "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2")
    assert scope.includes("oAuth2PermissionGrant", GRANT_ID)
    # base64url ids are case-sensitive
    assert not scope.includes("oAuth2PermissionGrant", GRANT_ID.lower())
    assert scope.ids("group") == frozenset()
    assert scope.to_dict() == {
        "objects": [
            {"type": "user", "ids": [USER_ID]},
            {"type": "oAuth2PermissionGrant", "ids": [GRANT_ID]},
        ]
    }


def test_types_and_objects_together() -> None:
    scope = Scope.from_dict(
        {
            "types": ["conditionalAccessPolicy"],
            "objects": [
                {"type": "user", "ids": [USER_ID]},
                {"type": "conditionalAccessPolicy", "ids": [USER_ID]},
            ],
        }
    )

    assert scope.object_types() == ("user", "conditionalAccessPolicy")
    assert scope.ids("conditionalAccessPolicy") is None
    assert scope.ids("user") == frozenset({USER_ID})
    assert Scope.from_dict(scope.to_dict()) == scope


def test_singletons_and_assignments_use_their_own_id_shapes() -> None:
    scope = Scope.from_dict(
        {
            "objects": [
                {"type": "authorizationPolicy", "ids": ["authorizationPolicy"]},
                {"type": "appRoleAssignment", "ids": [ASSIGNMENT_ID]},
            ]
        }
    )

    assert scope.includes("authorizationPolicy", "authorizationPolicy")
    assert scope.includes("appRoleAssignment", ASSIGNMENT_ID)


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        ({}, "omit it to cover every object", "scope"),
        ([], "must be an object", "scope"),
        ({"type": ["user"]}, "unknown field 'type'", "scope.type"),
        ({"types": []}, "non-empty list of type names", "scope.types"),
        ({"types": "user"}, "non-empty list of type names", "scope.types"),
        (
            {"types": ["user", "users"]},
            "scope.types[1]: unknown object type 'users'",
            "scope.types[1]",
        ),
        ({"objects": []}, "scope.objects must be a non-empty list", "scope.objects"),
        ({"objects": [{"type": "user"}]}, 'exactly "type" and "ids"', "scope.objects[0]"),
        (
            {"objects": [{"type": "device", "ids": [USER_ID]}]},
            "scope.objects[0].type: unknown object type 'device'",
            "scope.objects[0].type",
        ),
        (
            {"objects": [{"type": "user", "ids": []}]},
            "scope.objects[0].ids must be a non-empty list",
            "scope.objects[0]",
        ),
        (
            {"objects": [{"type": "user", "ids": [USER_ID, "adele@contoso.com"]}]},
            "scope.objects[0].ids[1]: 'adele@contoso.com' is not a valid user id (expected a GUID",
            "scope.objects[0].ids[1]",
        ),
        (
            {"objects": [{"type": "group", "ids": [USER_ID[:-1]]}]},
            "is not a valid group id",
            "scope.objects[0].ids[0]",
        ),
        (
            {"objects": [{"type": "oAuth2PermissionGrant", "ids": [GRANT_ID + "=="]}]},
            "is not a valid oAuth2PermissionGrant id (expected a base64url id",
            "scope.objects[0].ids[0]",
        ),
        (
            {"objects": [{"type": "authorizationPolicy", "ids": [USER_ID]}]},
            "expected the singleton's id 'authorizationPolicy'",
            "scope.objects[0].ids[0]",
        ),
        (
            {"objects": [{"type": "user", "ids": [42]}]},
            "42 is not a valid user id",
            "scope.objects[0].ids[0]",
        ),
    ],
)
def test_invalid_scopes_are_refused_naming_the_entry(data: Any, message: str, field: str) -> None:
    with pytest.raises(InvalidScope) as raised:
        Scope.from_dict(data)

    assert message in raised.value.message
    assert raised.value.details["field"] == field
    assert raised.value.code == "invalidScope"


def _guid(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-000000000000"


def test_at_most_the_configured_number_of_distinct_ids() -> None:
    at_limit = {"objects": [{"type": "user", "ids": [_guid(n) for n in range(5)] * 3}]}
    over = {"objects": [{"type": "user", "ids": [_guid(n) for n in range(6)]}]}

    assert Scope.from_dict(at_limit, max_ids=5).id_count == 5
    with pytest.raises(InvalidScope, match="more than 5 distinct object ids"):
        Scope.from_dict(over, max_ids=5)


def test_the_default_limit_is_ten_thousand_ids_across_entries() -> None:
    ids = [_guid(n) for n in range(MAX_SCOPE_IDS)]
    half = MAX_SCOPE_IDS // 2
    scope = Scope.from_dict(
        {"objects": [{"type": "user", "ids": ids[:half]}, {"type": "group", "ids": ids[half:]}]}
    )

    assert scope.id_count == MAX_SCOPE_IDS
    with pytest.raises(InvalidScope, match="more than 10,000"):
        Scope.from_dict(
            {
                "objects": [
                    {"type": "user", "ids": ids},
                    {"type": "group", "ids": [_guid(MAX_SCOPE_IDS)]},
                ]
            }
        )
