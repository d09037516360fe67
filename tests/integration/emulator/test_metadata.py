"""Every body the emulator returns for a generated tenant conforms to the v1.0 metadata:
property names declared on the type, values of the declared types."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graph_emulator.csdl import Schema, load_schema
from tests.integration.emulator.conftest import generate, state
from tests.integration.emulator.schema_check import check_body

ENTITY = {
    "user": "user",
    "group": "group",
    "application": "application",
    "servicePrincipal": "servicePrincipal",
    "conditionalAccessPolicy": "conditionalAccessPolicy",
    "namedLocation": "namedLocation",
    "authorizationPolicy": "authorizationPolicy",
    "authenticationMethodsPolicy": "authenticationMethodsPolicy",
    "organization": "organization",
    "oAuth2PermissionGrant": "oAuth2PermissionGrant",
    "appRoleAssignment": "appRoleAssignment",
}


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


async def tenant(http: httpx.AsyncClient) -> None:
    await generate(
        http, users=80, groups=15, membersPerGroup=6, applications=12, servicePrincipals=16,
        conditionalAccessPolicies=6, namedLocations=4, seed=21,
    )  # fmt: skip
    # Something in every recycle bin, and a synced user.
    for path in ("users", "groups?$filter=groupTypes/any(c:c eq 'Unified')", "applications"):
        first = (await http.get(f"/v1.0/{path}")).json()["value"][0]
        kind = path.split("?")[0]
        await http.delete(f"/v1.0/{kind}/{first['id']}")
    some_user = (await http.get("/v1.0/users?$top=1")).json()["value"][0]
    await http.post(f"/_emulator/objects/user/{some_user['id']}/sync")
    for segment in ("policies", "namedLocations"):
        first = (await http.get(f"/v1.0/identity/conditionalAccess/{segment}")).json()["value"][0]
        await http.delete(f"/v1.0/identity/conditionalAccess/{segment}/{first['id']}")


async def test_state_bodies_conform(http: httpx.AsyncClient, schema: Schema) -> None:
    await tenant(http)
    snapshot = await state(http)
    problems: list[str] = []
    checked = 0
    for type_name, bodies in snapshot["types"].items():
        for status in ("active", "deleted"):
            for body in bodies[status]:
                problems += check_body(schema, ENTITY[type_name], body, f"{type_name}:{body['id']}")
                checked += 1
    assert checked > 150
    assert not problems, problems[:20]
    assert all(snapshot["types"][t]["deleted"] for t in ("user", "group", "application"))


LISTS: list[tuple[str, str]] = [
    ("/v1.0/users?$top=999", "user"),
    ("/v1.0/users?$top=999&$expand=manager($select=id,displayName)", "user"),
    ("/v1.0/groups?$top=999", "group"),
    ("/v1.0/groups?$top=10&$expand=members($select=id)", "group"),
    ("/v1.0/applications?$top=999&$expand=owners", "application"),
    ("/v1.0/servicePrincipals?$top=999", "servicePrincipal"),
    ("/v1.0/oauth2PermissionGrants", "oAuth2PermissionGrant"),
    ("/v1.0/identity/conditionalAccess/policies", "conditionalAccessPolicy"),
    ("/v1.0/identity/conditionalAccess/namedLocations", "namedLocation"),
    ("/v1.0/identity/conditionalAccess/deletedItems/policies", "conditionalAccessPolicy"),
    ("/v1.0/identity/conditionalAccess/deletedItems/namedLocations", "namedLocation"),
    ("/v1.0/directory/deletedItems/microsoft.graph.user", "user"),
    ("/v1.0/directory/deletedItems/graph.group", "group"),
    ("/v1.0/directory/deletedItems/microsoft.graph.application", "application"),
    ("/v1.0/organization", "organization"),
    ("/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
     "authenticationMethodConfiguration"),
    ("/v1.0/users/delta", "user"),
    ("/v1.0/groups/delta?$select=displayName,members,owners", "group"),
    ("/v1.0/applications/delta", "application"),
    ("/v1.0/servicePrincipals/delta", "servicePrincipal"),
    ("/v1.0/oauth2PermissionGrants/delta", "oAuth2PermissionGrant"),
]  # fmt: skip


async def test_responses_conform(http: httpx.AsyncClient, schema: Schema) -> None:
    await tenant(http)
    problems: list[str] = []

    def check(type_name: str, body: Any, where: str) -> None:
        problems.extend(check_body(schema, type_name, body, where))

    for url, type_name in LISTS:
        body = (await http.get(url)).json()
        assert "value" in body, (url, body)
        for item in body["value"]:
            check(type_name, item, url)
    groups = (await http.get("/v1.0/groups?$top=5&$select=id")).json()["value"]
    for group in groups:
        for link in ("members", "owners"):
            for item in (await http.get(f"/v1.0/groups/{group['id']}/{link}")).json()["value"]:
                check("directoryObject", item, f"{link} of {group['id']}")
        assignments = (await http.get(f"/v1.0/groups/{group['id']}/appRoleAssignments")).json()
        for item in assignments["value"]:
            check("appRoleAssignment", item, "group assignments")
    sps = (await http.get("/v1.0/servicePrincipals?$select=id")).json()["value"]
    for sp in sps:
        assigned = (await http.get(f"/v1.0/servicePrincipals/{sp['id']}/appRoleAssignedTo")).json()
        for item in assigned["value"]:
            check("appRoleAssignment", item, "appRoleAssignedTo")
    users = (await http.get("/v1.0/users?$top=20&$select=id")).json()["value"]
    for user in users:
        full = (await http.get(f"/v1.0/users/{user['id']}")).json()
        check("user", full, "user")
        manager = await http.get(f"/v1.0/users/{user['id']}/manager")
        if manager.status_code == 200:
            check("directoryObject", manager.json(), "manager")
    for single in (
        "/v1.0/policies/authorizationPolicy",
        "/v1.0/policies/authenticationMethodsPolicy",
    ):
        type_name = single.rsplit("/", 1)[1]
        check(type_name, (await http.get(single)).json(), single)
    assert not problems, problems[:20]
