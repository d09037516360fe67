"""Finding, rewriting and resolving references between objects."""

from __future__ import annotations

from rewind_common.domain.references import (
    find_references,
    references_in,
    rewrite_links,
    rewrite_references,
    unresolvable,
)
from rewind_common.registry import get_type
from tests.unit.domain.resolver import FakeResolver
from tests.unit.domain.samples import body

CA = get_type("conditionalAccessPolicy")


def test_ca_policy_references_skip_keywords() -> None:
    found = {(r.path, r.value) for r in find_references(CA, body("conditionalAccessPolicy"))}

    assert ("conditions.users.includeUsers", "a702a13d-a437-4a07-8a7e-8c052de62dfd") in found
    assert ("conditions.users.excludeUsers", "124c5b6a-ffa5-483a-9b88-04c3fce5574a") in found
    assert not any(value in {"GuestsOrExternalUsers", "All", "AllTrusted"} for _, value in found)
    # the MFA trusted-IPs location is a keyword too
    assert (
        "conditions.locations.excludeLocations",
        "00000000-0000-0000-0000-000000000000",
    ) not in found
    assert (
        "conditions.locations.excludeLocations",
        "d2136c9c-b049-47ae-b9cf-316e04ef7198",
    ) in found


def test_references_carry_their_concrete_location_and_targets() -> None:
    policy = body("authenticationMethodsPolicy")
    group = "3ee3a9de-0a86-4e12-a287-9769accf1ba2"
    policy["authenticationMethodConfigurations"][1]["excludeTargets"] = [
        {"targetType": "group", "id": group}
    ]
    found = find_references(get_type("authenticationMethodsPolicy"), policy)

    # all_users is a keyword; only the excluded group is a reference
    assert [(r.location, r.value, r.targets) for r in found] == [
        ("authenticationMethodConfigurations[1].excludeTargets[0].id", group, ("group",))
    ]


def test_references_inside_a_reported_property_value() -> None:
    users = body("conditionalAccessPolicy")["conditions"]["users"]
    found = references_in(CA, "conditions.users", users)

    assert {r.location for r in found} == {
        "conditions.users.includeUsers[0]",
        "conditions.users.excludeUsers[0]",
    }
    assert references_in(CA, "conditions.users.excludeGroups", []) == []


def test_rewrite_replaces_old_ids_everywhere_and_keeps_the_rest() -> None:
    policy = body("conditionalAccessPolicy")
    old_user, new_user = (
        "124c5b6a-ffa5-483a-9b88-04c3fce5574a",
        "0b1f3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    )
    old_location = "d2136c9c-b049-47ae-b9cf-316e04ef7198"
    new_location = "f0e1d2c3-b4a5-4968-8776-655443322110"
    rewritten = rewrite_references(CA, policy, {old_user: new_user, old_location: new_location})

    assert rewritten["conditions"]["users"]["excludeUsers"] == [new_user, "GuestsOrExternalUsers"]
    assert rewritten["conditions"]["locations"]["excludeLocations"] == [
        "00000000-0000-0000-0000-000000000000",
        new_location,
    ]
    assert policy["conditions"]["users"]["excludeUsers"][0] == old_user  # input untouched
    assert rewritten["displayName"] == policy["displayName"]


def test_rewrite_follows_array_paths_and_scalar_references() -> None:
    grant_type = get_type("oAuth2PermissionGrant")
    grant = body("oAuth2PermissionGrant")
    rewritten = rewrite_references(grant_type, grant, {grant["clientId"]: "new-client"})

    assert rewritten["clientId"] == "new-client"
    assert rewritten["resourceId"] == grant["resourceId"]


def test_rewrite_links_keeps_many_valued_links_sorted() -> None:
    links = rewrite_links(
        {"members": ("b", "c"), "owners": (), "manager": "c"}, {"c": "a", "unused": "x"}
    )

    assert links == {"members": ("a", "b"), "owners": (), "manager": "a"}


def test_unresolvable_looks_at_live_objects_then_planned_ones() -> None:
    found = find_references(get_type("oAuth2PermissionGrant"), body("oAuth2PermissionGrant"))
    grant = body("oAuth2PermissionGrant")
    resolver = FakeResolver().add_live("servicePrincipal", grant["clientId"])
    resolver.add_planned("servicePrincipal", grant["resourceId"])

    assert [r.value for r in unresolvable(resolver, found)] == [grant["principalId"]]
    assert unresolvable(resolver.add_live("user", grant["principalId"]), found) == []


def test_ca_application_ids_resolve_through_service_principals() -> None:
    policy = body("conditionalAccessPolicy")
    app_ids = policy["conditions"]["applications"]["excludeApplications"]
    found = references_in(CA, "conditions.applications.excludeApplications", app_ids)
    resolver = FakeResolver().add_live("servicePrincipal", *app_ids, by="appId")

    assert len(found) == len(app_ids)
    assert unresolvable(resolver, found) == []
    assert (
        found[0]
        .describe()
        .startswith("unresolvable reference: servicePrincipal or application with appId ")
    )


def test_another_tenants_application_is_not_an_unresolvable_reference() -> None:
    sp = body("servicePrincipal")
    found = find_references(get_type("servicePrincipal"), sp)

    assert [r.value for r in found] == [sp["appId"]]
    assert unresolvable(FakeResolver(), found) == []
