"""The tenant generator: deterministic, realistic, referentially sound."""

from __future__ import annotations

from graph_emulator.control import state
from graph_emulator.emulator import Emulator
from graph_emulator.generator import generate

PARAMS = {
    "users": 120, "groups": 20, "membersPerGroup": 8, "applications": 10, "servicePrincipals": 14,
    "conditionalAccessPolicies": 5, "namedLocations": 4, "seed": 42,
}  # fmt: skip


def test_same_seed_same_tenant() -> None:
    first, second = Emulator(), Emulator()
    assert generate(first, PARAMS) == generate(second, PARAMS)
    assert state(first) == state(second)
    third = Emulator()
    generate(third, {**PARAMS, "seed": 43})
    assert state(third) != state(first)


def test_counts_and_references() -> None:
    emulator = Emulator()
    counts = generate(emulator, PARAMS)
    tenant = emulator.tenant
    assert counts["user"] == 120
    assert counts["group"] == 20
    assert counts["application"] == 10
    assert counts["servicePrincipal"] == 14
    assert counts["conditionalAccessPolicy"] == 5
    assert counts["namedLocation"] == 4
    assert counts["memberships"] >= 20 * 8
    assert counts["total"] == sum(len(c.items) for c in tenant.collections.values())
    users = tenant.collections["user"].items
    domains = {u["userPrincipalName"].split("@")[1] for u in users.values()}
    assert domains == {"contoso.com", "contoso.onmicrosoft.com"}
    emergency = sorted(
        u["userPrincipalName"] for u in users.values() if u["displayName"].startswith("Emergency")
    )
    assert emergency == [
        "breakglass1@contoso.onmicrosoft.com",
        "breakglass2@contoso.onmicrosoft.com",
    ]
    assert len({u["userPrincipalName"] for u in users.values()}) == 120
    assert {u.get("department") for u in users.values()} >= {"Sales", "Engineering", "IT"}
    assert all(m in users for m in tenant.manager.values())
    directory = tenant.directory
    for group_id, members in tenant.forward["members"].items():
        group = tenant.collections["group"].items[group_id]
        for member in members:
            assert member in directory
            if "Unified" in group["groupTypes"]:
                assert directory[member] == "user"
    nested = [m for ms in tenant.forward["members"].values() for m in ms if directory[m] == "group"]
    assert nested, "some security groups are nested"
    for assignment in tenant.collections["appRoleAssignment"].items.values():
        assert assignment["principalId"] in directory
        assert directory[assignment["resourceId"]] == "servicePrincipal"
    for grant in tenant.collections["oAuth2PermissionGrant"].items.values():
        assert directory[grant["clientId"]] == "servicePrincipal"
    locations = set(tenant.collections["namedLocation"].items)
    referenced: set[str] = set()
    for policy in tenant.collections["conditionalAccessPolicy"].items.values():
        conditions = policy["conditions"]
        for key in ("includeGroups", "excludeGroups"):
            assert all(g in tenant.collections["group"].items for g in conditions["users"][key])
        if conditions["locations"]:
            referenced |= set(conditions["locations"]["includeLocations"]) | set(
                conditions["locations"]["excludeLocations"]
            )
    assert referenced - {"All", "AllTrusted"} <= locations
    assert any(
        p["conditions"]["users"]["excludeGroups"]
        for p in tenant.collections["conditionalAccessPolicy"].items.values()
    )
