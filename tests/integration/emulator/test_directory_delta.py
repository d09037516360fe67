"""``/directoryObjects/delta``: app role assignments tracked with users, other type
filters, ``$select`` by type, tokens and the filters Graph refuses."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.directory_objects.delta.delta_request_builder import (
    DeltaRequestBuilder as DirectoryObjectsDelta,
)
from msgraph.generated.models.app_role_assignment import AppRoleAssignment
from msgraph.generated.models.user import User
from msgraph.graph_service_client import GraphServiceClient

from tests.integration.emulator.conftest import BASE, new_app, new_group, new_sp, new_user
from tests.integration.emulator.test_delta import drain

ROLE_ID = "ef7437e6-4f94-4a0a-a110-a439eb2aa8f7"
ASSIGNMENTS = (
    "/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.appRoleAssignment') "
    "or isof('microsoft.graph.user')"
)
ASSIGNMENT_TYPE = "#microsoft.graph.appRoleAssignment"
USER_TYPE = "#microsoft.graph.user"


async def resource_sp(http: httpx.AsyncClient, name: str = "Fabrikam App") -> dict[str, Any]:
    role = {
        "allowedMemberTypes": ["User"],
        "description": "Readers",
        "displayName": "Reader",
        "id": ROLE_ID,
        "isEnabled": True,
        "value": "Read",
    }
    app = await new_app(http, name, appRoles=[role])
    return await new_sp(http, app["appId"])


async def assign(http: httpx.AsyncClient, principal: str, resource: str) -> dict[str, Any]:
    response = await http.post(
        f"/v1.0/servicePrincipals/{resource}/appRoleAssignedTo",
        json={"principalId": principal, "resourceId": resource, "appRoleId": ROLE_ID},
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def of_type(items: list[dict[str, Any]], odata_type: str) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in items if i["@odata.type"] == odata_type}


async def test_assignments_and_users_first_round_and_changes(http: httpx.AsyncClient) -> None:
    resource = await resource_sp(http)
    alice, bob = await new_user(http, "Alice"), await new_user(http, "Bob")
    group = await new_group(http, "Readers")
    kept = await assign(http, alice["id"], resource["id"])
    dropped = await assign(http, group["id"], resource["id"])
    items, delta_link, _ = await drain(http, ASSIGNMENTS)
    assert delta_link.startswith(f"{BASE}/directoryObjects/delta?$deltatoken=")
    # Both types come back, each item typed; users with their default properties.
    assert set(of_type(items, USER_TYPE)) == {alice["id"], bob["id"]}
    assert "userPrincipalName" in of_type(items, USER_TYPE)[alice["id"]]
    first = of_type(items, ASSIGNMENT_TYPE)
    assert set(first) == {kept["id"], dropped["id"]}
    listed = (await http.get(f"/v1.0/servicePrincipals/{resource['id']}/appRoleAssignedTo")).json()
    as_listed = {a["id"]: a for a in listed["value"]}
    for assignment_id, item in first.items():
        assert {k: v for k, v in item.items() if k != "@odata.type"} == as_listed[assignment_id]
    assert len(items) == 4

    nothing, delta_link, _ = await drain(http, delta_link)
    assert nothing == []

    await http.delete(f"/v1.0/servicePrincipals/{resource['id']}/appRoleAssignedTo/{dropped['id']}")
    added = await assign(http, bob["id"], resource["id"])
    changes, delta_link, _ = await drain(http, delta_link)
    assert of_type(changes, ASSIGNMENT_TYPE) == {
        dropped["id"]: {
            "@odata.type": ASSIGNMENT_TYPE,
            "id": dropped["id"],
            "@removed": {"reason": "deleted"},
        },
        added["id"]: {
            "@odata.type": ASSIGNMENT_TYPE,
            **{k: v for k, v in added.items() if k != "@odata.context"},
        },
    }
    assert of_type(changes, USER_TYPE) == {}

    # A user's change comes in the same round, as the filter names users too.
    await http.patch(f"/v1.0/users/{bob['id']}", json={"jobTitle": "Reader"})
    changes, delta_link, _ = await drain(http, delta_link)
    assert [(c["@odata.type"], c["id"], c.get("jobTitle")) for c in changes] == [
        (USER_TYPE, bob["id"], "Reader")
    ]


async def test_assignments_follow_their_principal_and_resource(http: httpx.AsyncClient) -> None:
    resource = await resource_sp(http)
    alice, bob = await new_user(http, "Alice"), await new_user(http, "Bob")
    of_alice = await assign(http, alice["id"], resource["id"])
    of_bob = await assign(http, bob["id"], resource["id"])
    latest = (await http.get(ASSIGNMENTS + "&$deltatoken=latest")).json()
    assert latest["value"] == []
    delta_link = latest["@odata.deltaLink"]

    # A soft-deleted principal hides its assignments until it is restored.
    await http.delete(f"/v1.0/users/{alice['id']}")
    changes, delta_link, _ = await drain(http, delta_link)
    assert of_type(changes, ASSIGNMENT_TYPE)[of_alice["id"]]["@removed"] == {"reason": "changed"}
    assert of_type(changes, USER_TYPE)[alice["id"]]["@removed"] == {"reason": "changed"}
    await http.post(f"/v1.0/directory/deletedItems/{alice['id']}/restore")
    changes, delta_link, _ = await drain(http, delta_link)
    back = of_type(changes, ASSIGNMENT_TYPE)[of_alice["id"]]
    assert "@removed" not in back
    assert back["principalId"] == alice["id"]

    # A principal deleted for good takes its assignments with it.
    await http.delete(f"/v1.0/users/{bob['id']}")
    await http.delete(f"/v1.0/directory/deletedItems/{bob['id']}")
    changes, delta_link, _ = await drain(http, delta_link)
    assert of_type(changes, ASSIGNMENT_TYPE)[of_bob["id"]]["@removed"] == {"reason": "deleted"}

    # So does the resource service principal.
    await http.delete(f"/v1.0/servicePrincipals/{resource['id']}")
    changes, delta_link, _ = await drain(http, delta_link)
    assert of_type(changes, ASSIGNMENT_TYPE)[of_alice["id"]]["@removed"] == {"reason": "changed"}


async def test_pages_cross_types_and_deltatoken_checks(http: httpx.AsyncClient) -> None:
    await http.put("/_emulator/config", json={"deltaPageSize": 3})
    resource = await resource_sp(http)
    users = [await new_user(http, f"User {i}") for i in range(4)]
    assignments = [await assign(http, u["id"], resource["id"]) for u in users]
    items, delta_link, pages = await drain(http, ASSIGNMENTS)
    assert pages == 3
    assert [i["id"] for i in items] == sorted(a["id"] for a in assignments) + sorted(
        u["id"] for u in users
    )
    for u in users:
        await http.patch(f"/v1.0/users/{u['id']}", json={"jobTitle": "x"})
    changes, _, pages = await drain(http, delta_link)
    assert pages == 2
    assert len(changes) == 4
    # A token of another collection, a made-up one and one from before a reset.
    users_link = (await http.get("/v1.0/users/delta?$deltatoken=latest")).json()["@odata.deltaLink"]
    other = users_link.split("$deltatoken=")[1]
    for token in (other, "not-a-token"):
        bad = await http.get(f"/v1.0/directoryObjects/delta?$deltatoken={token}")
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "syncStateNotFound"
    await http.post("/_emulator/reset")
    expired = await http.get(delta_link)
    assert expired.json()["error"]["code"] == "syncStateNotFound"


async def test_other_type_filters_and_select(http: httpx.AsyncClient) -> None:
    user = await new_user(http, "Adele Vance", surname="Vance", jobTitle="Retail Manager")
    member = await new_user(http, "Member")
    group = await new_group(http, "All Company")
    await http.post(
        f"/v1.0/groups/{group['id']}/members/$ref",
        json={"@odata.id": f"{BASE}/directoryObjects/{member['id']}"},
    )
    items, _, _ = await drain(
        http,
        "/v1.0/directoryObjects/delta()?$filter=isof('microsoft.graph.user') "
        "or isof('microsoft.graph.group')",
    )
    by_id = {i["id"]: i for i in items}
    assert by_id[group["id"]]["@odata.type"] == "#microsoft.graph.group"
    assert by_id[group["id"]]["members@delta"] == [{"@odata.type": USER_TYPE, "id": member["id"]}]
    assert by_id[user["id"]]["jobTitle"] == "Retail Manager"
    # The documented $select form: one property of each type.
    items, _, _ = await drain(
        http,
        "/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.user') or "
        "isof('microsoft.graph.group')&$select=microsoft.graph.user/surname,"
        "microsoft.graph.group/displayName",
    )
    by_id = {i["id"]: i for i in items}
    assert by_id[user["id"]] == {"@odata.type": USER_TYPE, "surname": "Vance", "id": user["id"]}
    assert by_id[group["id"]] == {
        "@odata.type": "#microsoft.graph.group",
        "displayName": "All Company",
        "id": group["id"],
    }
    # Ids, alone or intersected with a type.
    items, _, _ = await drain(http, f"/v1.0/directoryObjects/delta?$filter=id eq '{group['id']}'")
    assert [i["id"] for i in items] == [group["id"]]
    items, _, _ = await drain(
        http,
        "/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.user') "
        f"or id eq '{group['id']}' or id eq '{user['id']}'",
    )
    assert [i["id"] for i in items] == [user["id"]]
    # Types the emulator holds no objects of are accepted and empty.
    items, _, _ = await drain(
        http, "/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.device')"
    )
    assert items == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?$filter=isof('microsoft.graph.appRoleAssignment')",
        "?$filter=isof('microsoft.graph.conditionalAccessPolicy')",
        "?$filter=isof('microsoft.graph.user') and isof('microsoft.graph.group')",
        "?$filter=startswith(displayName,'A')",
        "?$filter=isof('microsoft.graph.appRoleAssignment') or isof('microsoft.graph.user') "
        "or id eq '87d349ed-44d7-43e1-9a83-5f2406dee5bd'",
        "?$filter=isof('microsoft.graph.user')&$top=5",
        "?$filter=isof('microsoft.graph.user')&$select=microsoft.graph.user/notAProperty",
        "?$filter=isof('microsoft.graph.user')&$select=microsoft.graph.group/displayName",
    ],
)
async def test_refused_queries(http: httpx.AsyncClient, query: str) -> None:
    response = await http.get(f"/v1.0/directoryObjects/delta{query}")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "Request_UnsupportedQuery"


async def test_lists_refuse_isof(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1.0/users?$filter=isof('microsoft.graph.user')")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "Request_UnsupportedQuery"


async def test_sdk_reads_assignment_rounds(
    graph: GraphServiceClient, http: httpx.AsyncClient
) -> None:
    resource = await resource_sp(http)
    alice = await new_user(http, "Alice")
    assignment = await assign(http, alice["id"], resource["id"])
    query = DirectoryObjectsDelta.DeltaRequestBuilderGetQueryParameters(
        filter="isof('microsoft.graph.appRoleAssignment') or isof('microsoft.graph.user')"
    )
    response = await graph.directory_objects.delta.get(RequestConfiguration(query_parameters=query))
    assert response is not None
    assert response.odata_delta_link
    typed = {type(item): item for item in response.value or []}
    assert typed[User].id == alice["id"]
    assert typed[AppRoleAssignment].id == assignment["id"]
    parsed = typed[AppRoleAssignment]
    assert isinstance(parsed, AppRoleAssignment)
    assert parsed.principal_id == UUID(alice["id"])
