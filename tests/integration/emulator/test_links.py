"""Group members and owners, application and service principal owners, user manager."""

from __future__ import annotations

import httpx

from tests.integration.emulator.conftest import BASE, bind, new_app, new_group, new_sp, new_user


def ref(object_id: str) -> dict[str, str]:
    return {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{object_id}"}


async def test_member_refs_add_list_and_remove_both_ways(http: httpx.AsyncClient) -> None:
    group = await new_group(http)
    alice, bob = await new_user(http, "Alice"), await new_user(http, "Bob")
    for user in (alice, bob):
        added = await http.post(f"/v1.0/groups/{group['id']}/members/$ref", json=ref(user["id"]))
        assert added.status_code == 204
    duplicate = await http.post(f"/v1.0/groups/{group['id']}/members/$ref", json=ref(alice["id"]))
    assert duplicate.status_code == 400
    assert duplicate.json()["error"]["message"] == (
        "One or more added object references already exist for the following modified "
        "properties: 'members'."
    )
    members = (await http.get(f"/v1.0/groups/{group['id']}/members")).json()
    assert members["@odata.context"] == f"{BASE}/$metadata#directoryObjects"
    assert {m["@odata.type"] for m in members["value"]} == {"#microsoft.graph.user"}
    assert {m["id"] for m in members["value"]} == {alice["id"], bob["id"]}
    refs = (await http.get(f"/v1.0/groups/{group['id']}/members/$ref")).json()
    assert all("/directoryObjects/" in r["@odata.id"] for r in refs["value"])
    by_id = await http.delete(f"/v1.0/groups/{group['id']}/members/{alice['id']}/$ref")
    assert by_id.status_code == 204
    by_query = await http.delete(
        f"/v1.0/groups/{group['id']}/members/$ref",
        params={"@id": f"https://graph.microsoft.com/v1.0/directoryObjects/{bob['id']}"},
    )
    assert by_query.status_code == 204
    await http.post(f"/v1.0/groups/{group['id']}/members/$ref", json=ref(alice["id"]))
    by_odata_query = await http.delete(
        f"/v1.0/groups/{group['id']}/members/$ref",
        params={"$id": f"https://graph.microsoft.com/v1.0/directoryObjects/{alice['id']}"},
    )
    assert by_odata_query.status_code == 204
    assert (await http.get(f"/v1.0/groups/{group['id']}/members")).json()["value"] == []
    gone = await http.delete(f"/v1.0/groups/{group['id']}/members/{bob['id']}/$ref")
    assert gone.status_code == 404


async def test_microsoft_365_groups_accept_only_users(http: httpx.AsyncClient) -> None:
    team = await new_group(http, "Team", unified=True)
    nested = await new_group(http, "Nested")
    refused = await http.post(f"/v1.0/groups/{team['id']}/members/$ref", json=ref(nested["id"]))
    assert refused.status_code == 400
    security = await new_group(http, "Security")
    accepted = await http.post(
        f"/v1.0/groups/{security['id']}/members/$ref", json=ref(nested["id"])
    )
    assert accepted.status_code == 204


async def test_binds_on_create_and_patch_are_limited_to_20(http: httpx.AsyncClient) -> None:
    users = [await new_user(http, f"Bind {i}") for i in range(21)]
    owner = users[0]
    created = await http.post(
        "/v1.0/groups",
        json={
            "displayName": "Operations group",
            "mailEnabled": False,
            "mailNickname": "operations",
            "securityEnabled": True,
            "owners@odata.bind": [bind("users", owner["id"])],
            "members@odata.bind": [bind("users", u["id"]) for u in users[1:3]],
        },
    )
    assert created.status_code == 201
    group = created.json()
    owners = (await http.get(f"/v1.0/groups/{group['id']}/owners")).json()["value"]
    assert [o["id"] for o in owners] == [owner["id"]]
    too_many = await http.patch(
        f"/v1.0/groups/{group['id']}",
        json={"members@odata.bind": [bind("users", u["id"]) for u in users]},
    )
    assert too_many.status_code == 400
    twenty = await http.patch(
        f"/v1.0/groups/{group['id']}",
        json={"members@odata.bind": [bind("directoryObjects", u["id"]) for u in users[3:21]]},
    )
    assert twenty.status_code == 204
    count = await http.get(
        f"/v1.0/groups/{group['id']}/members/$count", headers={"ConsistencyLevel": "eventual"}
    )
    assert count.text == "20"
    missing = await http.patch(
        f"/v1.0/groups/{group['id']}",
        json={"members@odata.bind": [bind("users", "6f1f8c1e-0000-4000-8000-000000000000")]},
    )
    assert missing.status_code == 404


async def test_expand_returns_at_most_20_and_pages_of_100(http: httpx.AsyncClient) -> None:
    group = await new_group(http)
    users = [await new_user(http, f"Member {i}") for i in range(25)]
    for start in (0, 20):
        await http.patch(
            f"/v1.0/groups/{group['id']}",
            json={
                "members@odata.bind": [bind("users", u["id"]) for u in users[start : start + 20]]
            },
        )
    expanded = (
        await http.get(f"/v1.0/groups/{group['id']}?$select=id&$expand=members($select=id)")
    ).json()
    assert len(expanded["members"]) == 20
    assert set(expanded["members"][0]) == {"@odata.type", "id"}
    listed = (await http.get("/v1.0/users?$top=999&$expand=manager($select=id)")).json()
    assert len(listed["value"]) == 25


async def test_owners_of_applications_and_service_principals(http: httpx.AsyncClient) -> None:
    app = await new_app(http)
    sp = await new_sp(http, app["appId"])
    user = await new_user(http)
    for path in (f"/v1.0/applications/{app['id']}", f"/v1.0/servicePrincipals/{sp['id']}"):
        assert (await http.post(f"{path}/owners/$ref", json=ref(user["id"]))).status_code == 204
        owners = (await http.get(f"{path}/owners?$select=id")).json()["value"]
        assert owners == [{"@odata.type": "#microsoft.graph.user", "id": user["id"]}]
        expanded = (await http.get(f"{path}?$select=id&$expand=owners($select=id)")).json()
        assert expanded["owners"] == owners
    group = await new_group(http)
    refused = await http.post(f"/v1.0/applications/{app['id']}/owners/$ref", json=ref(group["id"]))
    assert refused.status_code == 400


async def test_manager(http: httpx.AsyncClient) -> None:
    boss, worker = await new_user(http, "Boss"), await new_user(http, "Worker")
    none = await http.get(f"/v1.0/users/{worker['id']}/manager")
    assert none.status_code == 404
    assert none.json()["error"]["code"] == "Request_ResourceNotFound"
    put = await http.put(
        f"/v1.0/users/{worker['id']}/manager/$ref",
        json={"@odata.id": f"https://graph.microsoft.com/v1.0/users/{boss['id']}"},
    )
    assert put.status_code == 204
    manager = (await http.get(f"/v1.0/users/{worker['id']}/manager")).json()
    assert manager["@odata.type"] == "#microsoft.graph.user"
    assert manager["id"] == boss["id"]
    expanded = (
        await http.get(
            f"/v1.0/users/{worker['id']}?$select=id&$expand=manager($select=id,displayName)"
        )
    ).json()
    assert expanded["manager"] == {
        "@odata.type": "#microsoft.graph.user",
        "id": boss["id"],
        "displayName": "Boss",
    }
    reports = (await http.get(f"/v1.0/users/{boss['id']}/directReports")).json()["value"]
    assert [r["id"] for r in reports] == [worker["id"]]
    assert (await http.delete(f"/v1.0/users/{worker['id']}/manager/$ref")).status_code == 204
    assert (await http.get(f"/v1.0/users/{worker['id']}/manager")).status_code == 404


async def test_soft_deleted_member_is_hidden_and_comes_back_on_restore(
    http: httpx.AsyncClient,
) -> None:
    group = await new_group(http)
    user = await new_user(http)
    await http.post(f"/v1.0/groups/{group['id']}/members/$ref", json=ref(user["id"]))
    await http.delete(f"/v1.0/users/{user['id']}")
    assert (await http.get(f"/v1.0/groups/{group['id']}/members")).json()["value"] == []
    restored = await http.post(f"/v1.0/directory/deletedItems/{user['id']}/restore")
    assert restored.status_code == 200
    members = (await http.get(f"/v1.0/groups/{group['id']}/members")).json()["value"]
    assert [m["id"] for m in members] == [user["id"]]
