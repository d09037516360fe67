"""Directory and Conditional Access deleted items: listing, restore, permanent delete."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.emulator.conftest import new_app, new_group, new_sp, new_user


@pytest.mark.parametrize("cast", ["microsoft.graph.user", "graph.user"])
async def test_deleted_users_listed_by_type(http: httpx.AsyncClient, cast: str) -> None:
    user = await new_user(http, "Gone Soon")
    await http.delete(f"/v1.0/users/{user['id']}")
    listed = (await http.get(f"/v1.0/directory/deletedItems/{cast}")).json()
    assert [u["id"] for u in listed["value"]] == [user["id"]]
    deleted = listed["value"][0]
    assert deleted["deletedDateTime"] is not None
    # Entra prefixes a deleted user's name with its id, which frees the name.
    assert deleted["userPrincipalName"] == user["id"].replace("-", "") + "gonesoon@contoso.com"
    untyped = await http.get("/v1.0/directory/deletedItems")
    assert untyped.status_code == 400


async def test_restore_and_name_conflicts(http: httpx.AsyncClient) -> None:
    user = await new_user(http, "Twin")
    await http.delete(f"/v1.0/users/{user['id']}")
    replacement = await new_user(http, "Twin")
    conflict = await http.post(f"/v1.0/directory/deletedItems/{user['id']}/restore")
    assert conflict.status_code == 400
    await http.delete(f"/v1.0/users/{replacement['id']}")
    await http.delete(f"/v1.0/directory/deletedItems/{replacement['id']}")
    restored = await http.post(f"/v1.0/directory/deletedItems/{user['id']}/restore")
    assert restored.status_code == 200
    body = restored.json()
    assert body["@odata.type"] == "#microsoft.graph.user"
    assert body["userPrincipalName"] == "twin@contoso.com"
    got = (await http.get(f"/v1.0/users/{user['id']}?$select=id,deletedDateTime")).json()
    assert got["deletedDateTime"] is None


async def test_permanent_delete(http: httpx.AsyncClient) -> None:
    group = await new_group(http, "M365", unified=True)
    await http.delete(f"/v1.0/groups/{group['id']}")
    assert (await http.get(f"/v1.0/directory/deletedItems/{group['id']}")).status_code == 200
    assert (await http.delete(f"/v1.0/directory/deletedItems/{group['id']}")).status_code == 204
    assert (await http.get(f"/v1.0/directory/deletedItems/{group['id']}")).status_code == 404
    assert (
        await http.post(f"/v1.0/directory/deletedItems/{group['id']}/restore")
    ).status_code == 404


async def test_deleting_an_application_deletes_its_service_principal(
    http: httpx.AsyncClient,
) -> None:
    app = await new_app(http)
    sp = await new_sp(http, app["appId"])
    await http.delete(f"/v1.0/applications/{app['id']}")
    assert (await http.get(f"/v1.0/servicePrincipals/{sp['id']}")).status_code == 404
    await http.post(f"/v1.0/directory/deletedItems/{app['id']}/restore")
    # Restoring the application does not restore its service principal.
    assert (await http.get(f"/v1.0/servicePrincipals/{sp['id']}")).status_code == 404
    listed = (await http.get("/v1.0/directory/deletedItems/graph.servicePrincipal")).json()
    assert [s["id"] for s in listed["value"]] == [sp["id"]]
    await http.post(f"/v1.0/directory/deletedItems/{sp['id']}/restore")
    assert (await http.get(f"/v1.0/servicePrincipals/{sp['id']}")).status_code == 200


async def test_synced_objects_cannot_be_changed_or_deleted(http: httpx.AsyncClient) -> None:
    user = await new_user(http, "Synced User")
    synced = await http.post(f"/_emulator/objects/user/{user['id']}/sync")
    assert synced.status_code == 200
    assert synced.json()["onPremisesSyncEnabled"] is True
    refused = await http.patch(f"/v1.0/users/{user['id']}", json={"jobTitle": "x"})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        "Unable to update the specified properties for on-premises mastered Directory Sync "
        "objects or objects currently undergoing migration."
    )
    # Cloud-only properties stay writable.
    allowed = await http.patch(f"/v1.0/users/{user['id']}", json={"preferredLanguage": "nl-NL"})
    assert allowed.status_code == 204
    assert (await http.delete(f"/v1.0/users/{user['id']}")).status_code == 400


@pytest.mark.parametrize("segment", ["policies", "namedLocations"])
async def test_conditional_access_deleted_items(http: httpx.AsyncClient, segment: str) -> None:
    body: dict[str, object]
    if segment == "policies":
        body = {
            "displayName": "Soft",
            "state": "disabled",
            "conditions": {
                "applications": {"includeApplications": ["All"]},
                "users": {"includeUsers": ["None"]},
            },
            "grantControls": {"operator": "OR", "builtInControls": ["block"]},
        }
    else:
        body = {
            "@odata.type": "#microsoft.graph.ipNamedLocation",
            "displayName": "Office",
            "ipRanges": [
                {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "10.0.0.0/8"}
            ],
        }
    base = f"/v1.0/identity/conditionalAccess/{segment}"
    created = (await http.post(base, json=body)).json()
    assert (await http.delete(f"{base}/{created['id']}")).status_code == 204
    assert (await http.get(f"{base}/{created['id']}")).status_code == 404
    deleted_base = f"/v1.0/identity/conditionalAccess/deletedItems/{segment}"
    listed = (await http.get(deleted_base)).json()
    assert [p["id"] for p in listed["value"]] == [created["id"]]
    assert listed["value"][0]["deletedDateTime"] is not None
    restored = await http.post(f"{deleted_base}/{created['id']}/restore")
    assert restored.status_code == 200
    assert restored.json()["id"] == created["id"]
    assert (await http.get(f"{base}/{created['id']}")).status_code == 200
    await http.delete(f"{base}/{created['id']}")
    assert (await http.delete(f"{deleted_base}/{created['id']}")).status_code == 204
    assert (await http.get(deleted_base)).json()["value"] == []


async def test_named_location_in_use_cannot_be_deleted(http: httpx.AsyncClient) -> None:
    location = (
        await http.post(
            "/v1.0/identity/conditionalAccess/namedLocations",
            json={
                "@odata.type": "#microsoft.graph.countryNamedLocation",
                "displayName": "Blocked",
                "countriesAndRegions": ["KP"],
            },
        )
    ).json()
    await http.post(
        "/v1.0/identity/conditionalAccess/policies",
        json={
            "displayName": "Block countries",
            "state": "enabled",
            "conditions": {
                "applications": {"includeApplications": ["All"]},
                "users": {"includeUsers": ["All"]},
                "locations": {"includeLocations": [location["id"]]},
            },
            "grantControls": {"operator": "OR", "builtInControls": ["block"]},
        },
    )
    refused = await http.delete(f"/v1.0/identity/conditionalAccess/namedLocations/{location['id']}")
    assert refused.status_code == 400
