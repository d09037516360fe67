"""Delta queries: paged first round, changes only afterwards, @removed, members@delta."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.emulator.conftest import BASE, generate, new_app, new_group, new_user


async def drain(http: httpx.AsyncClient, url: str) -> tuple[list[dict[str, Any]], str, int]:
    """Follow nextLinks to the deltaLink: (items, deltaLink, pages)."""
    items: list[dict[str, Any]] = []
    pages = 0
    while True:
        response = await http.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        items += body["value"]
        assert not ("@odata.nextLink" in body and "@odata.deltaLink" in body)
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"], pages
        url = body["@odata.nextLink"]


async def test_users_delta_rounds(http: httpx.AsyncClient) -> None:
    await generate(http, users=450, groups=0, applications=0, servicePrincipals=0, seed=2)
    items, delta_link, pages = await drain(http, "/v1.0/users/delta()")
    assert pages == 3  # 200 per page
    assert len(items) == 450
    assert delta_link.startswith(f"{BASE}/users/delta?$deltatoken=")
    assert set(items[0]) <= {
        "businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone",
        "officeLocation", "preferredLanguage", "surname", "userPrincipalName",
    }  # fmt: skip
    nothing, delta_link, _ = await drain(http, delta_link)
    assert nothing == []
    changed, removed, purged = items[0]["id"], items[1]["id"], items[2]["id"]
    await http.patch(f"/v1.0/users/{changed}", json={"jobTitle": "CEO"})
    await http.delete(f"/v1.0/users/{removed}")
    await http.delete(f"/v1.0/users/{purged}")
    await http.delete(f"/v1.0/directory/deletedItems/{purged}")
    created = await new_user(http, "New Hire")
    changes, delta_link, _ = await drain(http, delta_link)
    by_id = {c["id"]: c for c in changes}
    assert by_id[changed]["jobTitle"] == "CEO"
    assert by_id[removed] == {"id": removed, "@removed": {"reason": "changed"}}
    assert by_id[purged] == {"id": purged, "@removed": {"reason": "deleted"}}
    assert by_id[created["id"]]["displayName"] == "New Hire"
    assert len(changes) == 4
    # Restoring shows the user again in the next round.
    await http.post(f"/v1.0/directory/deletedItems/{removed}/restore")
    changes, _, _ = await drain(http, delta_link)
    assert [c["id"] for c in changes] == [removed]
    assert "@removed" not in changes[0]


async def test_select_and_never_set_properties(http: httpx.AsyncClient) -> None:
    await new_user(http, "Sparse")
    items, _, _ = await drain(http, "/v1.0/users/delta?$select=displayName,jobTitle,department")
    # A property never set is not included; id always is.
    assert items == [{"displayName": "Sparse", "id": items[0]["id"]}]


async def test_select_restricts_the_changes_a_round_reports(http: httpx.AsyncClient) -> None:
    """delta-query-overview.md: with $select, an object whose change touched none of the
    selected properties (nor a selected relationship) does not appear in the round."""
    user, boss = await new_user(http, "Tracked"), await new_user(http, "Boss")
    group = await new_group(http, "Quiet")
    _, users_link, _ = await drain(http, "/v1.0/users/delta?$select=displayName,manager")
    _, groups_link, _ = await drain(http, "/v1.0/groups/delta?$select=displayName")

    await http.patch(f"/v1.0/users/{user['id']}", json={"jobTitle": "Not selected"})
    ref = {"@odata.id": f"{BASE}/directoryObjects/{user['id']}"}
    await http.post(f"/v1.0/groups/{group['id']}/members/$ref", json=ref)
    quiet, users_link, _ = await drain(http, users_link)
    assert quiet == []
    assert (await drain(http, groups_link))[0] == []

    await http.put(
        f"/v1.0/users/{user['id']}/manager/$ref",
        json={"@odata.id": f"{BASE}/users/{boss['id']}"},
    )
    await http.patch(f"/v1.0/users/{boss['id']}", json={"displayName": "Big Boss"})
    changes, _, _ = await drain(http, users_link)
    by_id = {c["id"]: c for c in changes}
    assert set(by_id) == {user["id"], boss["id"]}
    assert by_id[user["id"]]["manager@delta"][0]["id"] == boss["id"]
    assert by_id[boss["id"]]["displayName"] == "Big Boss"


async def test_a_delta_link_older_than_its_lifetime_is_refused(http: httpx.AsyncClient) -> None:
    await new_user(http, "Early")
    _, delta_link, _ = await drain(http, "/v1.0/users/delta")
    assert (await http.get(delta_link)).status_code == 200
    await http.put("/_emulator/config", json={"deltaTokenLifetimeSeconds": 0})
    try:
        expired = await http.get(delta_link)
    finally:
        await http.put("/_emulator/config", json={"deltaTokenLifetimeSeconds": 7 * 24 * 3600})
    assert expired.status_code == 400
    assert expired.json()["error"]["code"] == "syncStateNotFound"
    assert (await http.get(delta_link)).status_code == 200


async def test_deltatoken_latest_and_invalid_tokens(http: httpx.AsyncClient) -> None:
    await new_user(http, "Before")
    latest = (await http.get("/v1.0/users/delta?$deltatoken=latest")).json()
    assert latest["value"] == []
    await new_user(http, "After")
    changes, _, _ = await drain(http, latest["@odata.deltaLink"])
    assert [c["displayName"] for c in changes] == ["After"]
    bad = await http.get("/v1.0/users/delta?$deltatoken=not-a-token")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "syncStateNotFound"
    await http.post("/_emulator/reset")
    expired = await http.get(latest["@odata.deltaLink"])
    assert expired.json()["error"]["code"] == "syncStateNotFound"


@pytest.mark.parametrize("option", ["$top=5", "$orderby=displayName", "$expand=manager"])
async def test_unsupported_delta_options(http: httpx.AsyncClient, option: str) -> None:
    response = await http.get(f"/v1.0/users/delta?{option}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "Request_UnsupportedQuery"


async def test_delta_filter_by_id(http: httpx.AsyncClient) -> None:
    users = [await new_user(http, f"Filtered {i}") for i in range(3)]
    items, delta_link, _ = await drain(
        http, f"/v1.0/users/delta?$filter=id eq '{users[0]['id']}' or id eq '{users[1]['id']}'"
    )
    assert {i["id"] for i in items} == {users[0]["id"], users[1]["id"]}
    await http.patch(f"/v1.0/users/{users[2]['id']}", json={"jobTitle": "x"})
    changes, _, _ = await drain(http, delta_link)
    assert changes == []
    refused = await http.get("/v1.0/users/delta?$filter=startswith(displayName,'F')")
    assert refused.status_code == 400


async def test_group_members_delta(http: httpx.AsyncClient) -> None:
    group = await new_group(http, "Tracked")
    alice, bob, carol = [await new_user(http, n) for n in ("Alice", "Bob", "Carol")]
    for user in (alice, bob):
        await http.post(
            f"/v1.0/groups/{group['id']}/members/$ref",
            json={"@odata.id": f"{BASE}/directoryObjects/{user['id']}"},
        )
    items, delta_link, _ = await drain(http, "/v1.0/groups/delta?$select=displayName,members")
    first = next(i for i in items if i["id"] == group["id"])
    assert {m["id"] for m in first["members@delta"]} == {alice["id"], bob["id"]}
    assert all(m["@odata.type"] == "#microsoft.graph.user" for m in first["members@delta"])
    await http.delete(f"/v1.0/groups/{group['id']}/members/{alice['id']}/$ref")
    await http.post(
        f"/v1.0/groups/{group['id']}/members/$ref",
        json={"@odata.id": f"{BASE}/directoryObjects/{carol['id']}"},
    )
    changes, delta_link, _ = await drain(http, delta_link)
    assert len(changes) == 1
    members = {m["id"]: m for m in changes[0]["members@delta"]}
    assert members[alice["id"]]["@removed"] == {"reason": "deleted"}
    assert "@removed" not in members[carol["id"]]
    assert bob["id"] not in members
    # Soft-deleting a member shows as a removal from the group too.
    await http.delete(f"/v1.0/users/{bob['id']}")
    changes, _, _ = await drain(http, delta_link)
    group_change = next(c for c in changes if c["id"] == group["id"])
    assert group_change["members@delta"] == [
        {"@odata.type": "#microsoft.graph.user", "id": bob["id"], "@removed": {"reason": "deleted"}}
    ]


async def test_groups_track_members_by_default_and_owners_on_select(
    http: httpx.AsyncClient,
) -> None:
    owner = await new_user(http, "Owner")
    binds: dict[str, Any] = {"owners@odata.bind": [f"{BASE}/users/{owner['id']}"]}
    group = await new_group(http, "Owned", **binds)
    items, _, _ = await drain(http, "/v1.0/groups/delta")
    assert "members@delta" not in items[0] or items[0]["members@delta"] == []
    items, _, _ = await drain(http, "/v1.0/groups/delta?$select=displayName,owners")
    assert items[0]["owners@delta"] == [{"@odata.type": "#microsoft.graph.user", "id": owner["id"]}]
    assert items[0]["id"] == group["id"]


async def test_other_delta_collections(http: httpx.AsyncClient) -> None:
    app = await new_app(http)
    for path in (
        "/v1.0/applications/delta",
        "/v1.0/servicePrincipals/delta",
        "/v1.0/oauth2PermissionGrants/delta",
    ):
        items, delta_link, _ = await drain(http, path)
        assert delta_link
    items, delta_link, _ = await drain(http, "/v1.0/applications/delta")
    assert [i["id"] for i in items] == [app["id"]]
    await http.delete(f"/v1.0/applications/{app['id']}")
    changes, _, _ = await drain(http, delta_link)
    assert changes == [{"id": app["id"], "@removed": {"reason": "changed"}}]


async def test_an_object_changed_again_during_a_round_moves_no_other_out_of_it(
    http: httpx.AsyncClient,
) -> None:
    await generate(http, users=12, groups=0, applications=0, servicePrincipals=0, seed=4)
    _, delta_link, _ = await drain(http, "/v1.0/users/delta()")
    users = (await http.get("/v1.0/users", params={"$select": "id"})).json()["value"]
    changed = [u["id"] for u in users[:6]]
    for index, user_id in enumerate(changed):
        await http.patch(f"/v1.0/users/{user_id}", json={"jobTitle": f"First {index}"})
    await http.put("/_emulator/config", json={"deltaPageSize": 2})
    first = (await http.get(delta_link)).json()
    assert [item["id"] for item in first["value"]] == changed[:2]
    # one of the first page changes again while the round is read
    await http.patch(f"/v1.0/users/{changed[0]}", json={"jobTitle": "Second"})
    rest, next_link, _ = await drain(http, first["@odata.nextLink"])
    assert [item["id"] for item in rest] == changed[2:]
    again, _, _ = await drain(http, next_link)
    assert [(item["id"], item["jobTitle"]) for item in again] == [(changed[0], "Second")]
