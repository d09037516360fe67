"""The registry's path syntax against real bodies."""

from __future__ import annotations

import pytest

from rewind_common.domain.paths import (
    EACH,
    format_path,
    get_value,
    get_values,
    is_within,
    iter_paths,
    map_values,
    parse_path,
    relative_path,
    set_value,
)
from tests.unit.domain.samples import body


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("conditions.users.excludeGroups", ("conditions", "users", "excludeGroups")),
        ("web.redirectUris", ("web", "redirectUris")),
        (
            "authenticationMethodConfigurations[].includeTargets[].id",
            ("authenticationMethodConfigurations", EACH, "includeTargets", EACH, "id"),
        ),
        ("[].id", (EACH, "id")),
        ("ipRanges[1].cidrAddress", ("ipRanges", 1, "cidrAddress")),
        ("@odata.type", ("@odata.type",)),
        ("ipRanges[0].@odata.type", ("ipRanges", 0, "@odata.type")),
    ],
)
def test_paths_parse_and_format_back(path: str, steps: tuple[object, ...]) -> None:
    assert parse_path(path) == steps
    assert format_path(parse_path(path)) == path


@pytest.mark.parametrize("path", ["a..b", "a.", ".a", "a[x]", "a.[]", "[]a"])
def test_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="malformed path"):
        parse_path(path)


def test_values_at_a_nested_ca_path() -> None:
    policy = body("conditionalAccessPolicy")

    assert get_value(policy, "conditions.users.excludeUsers") == [
        "124c5b6a-ffa5-483a-9b88-04c3fce5574a",
        "GuestsOrExternalUsers",
    ]
    assert get_value(policy, "conditions.devices.deviceFilter", "absent") == "absent"


def test_array_steps_reach_every_element_with_concrete_paths() -> None:
    policy = body("authenticationMethodsPolicy")
    found = list(iter_paths(policy, "authenticationMethodConfigurations[].includeTargets[].id"))

    assert found[0] == ("authenticationMethodConfigurations[0].includeTargets[0].id", "all_users")
    assert len(found) == sum(
        len(c.get("includeTargets", [])) for c in policy["authenticationMethodConfigurations"]
    )
    assert get_values(policy, "authenticationMethodConfigurations[].id")[:2] == [
        "Fido2",
        "MicrosoftAuthenticator",
    ]


def test_get_value_refuses_a_path_naming_many_values() -> None:
    with pytest.raises(ValueError, match="names many values"):
        get_value({}, "a[].b")


def test_set_value_creates_missing_and_null_objects_on_the_way() -> None:
    policy = body("conditionalAccessPolicy")
    policy["sessionControls"] = None
    set_value(policy, "sessionControls.signInFrequency.value", 4)
    set_value(policy, "conditions.users.excludeGroups", ["3ee3a9de-0a86-4e12-a287-9769accf1ba2"])

    assert policy["sessionControls"] == {"signInFrequency": {"value": 4}}
    assert policy["conditions"]["users"]["excludeGroups"] == [
        "3ee3a9de-0a86-4e12-a287-9769accf1ba2"
    ]


def test_set_value_refuses_to_step_through_a_scalar() -> None:
    with pytest.raises(ValueError, match="not an object"):
        set_value({"state": "enabled"}, "state.value", 1)


def test_map_values_copies_only_the_containers_on_the_way() -> None:
    original = {"a": [{"id": "x"}, {"id": "y"}], "b": {"c": 1}}
    mapped = map_values(original, "a[].id", str.upper)

    assert mapped == {"a": [{"id": "X"}, {"id": "Y"}], "b": {"c": 1}}
    assert original["a"] == [{"id": "x"}, {"id": "y"}]
    assert mapped["b"] is original["b"]


def test_within_respects_step_boundaries() -> None:
    assert is_within("conditions.users.excludeGroups", "conditions.users")
    assert is_within("requiredResourceAccess[].resourceAccess", "requiredResourceAccess")
    assert not is_within("conditions.usersX", "conditions.users")
    assert relative_path("a[].b[].id", "a") == "[].b[].id"
    assert relative_path("a.b", "a.b") == ""
