"""Create, read, list, update and delete every type over HTTP, with Graph's status codes,
bodies and default property sets."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from graph_emulator.ids import is_guid
from tests.integration.emulator.conftest import BASE, generate, new_app, new_group, new_sp, new_user

USER_DEFAULTS = {
    "businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName",
}  # fmt: skip


async def test_user_lifecycle_with_default_properties(http: httpx.AsyncClient) -> None:
    created = await new_user(http, "Adele Vance", jobTitle="Retail Manager")
    assert created["@odata.context"] == f"{BASE}/$metadata#users/$entity"
    assert is_guid(created["id"])
    assert set(created) - {"@odata.context"} == USER_DEFAULTS
    got = (await http.get(f"/v1.0/users/{created['id']}")).json()
    assert set(got) - {"@odata.context"} == USER_DEFAULTS
    assert got["jobTitle"] == "Retail Manager"
    # Anything outside the default set needs $select.
    assert "department" not in got
    by_upn = await http.get(
        "/v1.0/users/adelevance@contoso.com?$select=id,department,accountEnabled"
    )
    assert by_upn.json() == {
        "@odata.context": f"{BASE}/$metadata#users(id,department,accountEnabled)/$entity",
        "id": created["id"],
        "department": None,
        "accountEnabled": True,
    }
    patched = await http.patch(f"/v1.0/users/{created['id']}", json={"department": "Sales"})
    assert patched.status_code == 204
    assert patched.content == b""
    got = (await http.get(f"/v1.0/users/{created['id']}?$select=department")).json()
    assert got["department"] == "Sales"
    deleted = await http.delete(f"/v1.0/users/{created['id']}")
    assert deleted.status_code == 204
    missing = await http.get(f"/v1.0/users/{created['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"


async def test_a_password_change_moves_last_password_change_time(http: httpx.AsyncClient) -> None:
    """lastPasswordChangeDateTime: "when this Microsoft Entra user last changed their
    password or when their password was created" (user resource). Other writes leave it."""
    created = await new_user(http, "Megan Bowen")
    fields = "?$select=createdDateTime,lastPasswordChangeDateTime"
    got = (await http.get(f"/v1.0/users/{created['id']}{fields}")).json()
    assert got["lastPasswordChangeDateTime"] == got["createdDateTime"]
    await http.patch(f"/v1.0/users/{created['id']}", json={"jobTitle": "Marketing Manager"})
    unchanged = (await http.get(f"/v1.0/users/{created['id']}{fields}")).json()
    assert unchanged["lastPasswordChangeDateTime"] == got["lastPasswordChangeDateTime"]
    await asyncio.sleep(1.01 - time.time() % 1)  # directory timestamps are whole seconds
    reset = await http.patch(
        f"/v1.0/users/{created['id']}",
        json={
            "passwordProfile": {"password": "Xk2-reset-Now!", "forceChangePasswordNextSignIn": True}
        },
    )
    assert reset.status_code == 204
    after = (await http.get(f"/v1.0/users/{created['id']}{fields}")).json()
    assert after["lastPasswordChangeDateTime"] > got["lastPasswordChangeDateTime"]


async def test_list_pages_with_absolute_next_links(http: httpx.AsyncClient) -> None:
    await generate(http, users=250, groups=0, applications=0, servicePrincipals=0, seed=4)
    seen: list[str] = []
    url = "/v1.0/users?$top=100&$select=id,displayName"
    pages = 0
    while url:
        body = (await http.get(url)).json()
        pages += 1
        assert body["@odata.context"] == f"{BASE}/$metadata#users(id,displayName)"
        seen += [u["id"] for u in body["value"]]
        assert all(set(u) == {"id", "displayName"} for u in body["value"])
        url = body.get("@odata.nextLink", "")
        if url:
            assert url.startswith(BASE + "/users?")
            assert "$skiptoken=" in url
    assert pages == 3
    assert len(seen) == len(set(seen)) == 250


async def test_default_page_is_100_and_top_above_999_is_refused(http: httpx.AsyncClient) -> None:
    await generate(http, users=120, groups=0, applications=0, servicePrincipals=0)
    body = (await http.get("/v1.0/users")).json()
    assert len(body["value"]) == 100
    assert "@odata.nextLink" in body
    refused = await http.get("/v1.0/users?$top=1000")
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "code": "Request_UnsupportedQuery",
        "message": "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
        "innerError": refused.json()["error"]["innerError"],
    }


async def test_filter_and_count(http: httpx.AsyncClient) -> None:
    users = [await new_user(http, f"Filter User {i}") for i in range(3)]
    ids = [u["id"] for u in users]
    one = (await http.get(f"/v1.0/users?$filter=id eq '{ids[0]}'")).json()
    assert [u["id"] for u in one["value"]] == [ids[0]]
    some = (await http.get(f"/v1.0/users?$filter=id in ('{ids[1]}','{ids[2]}')")).json()
    assert sorted(u["id"] for u in some["value"]) == sorted(ids[1:])
    starts = (await http.get("/v1.0/users?$filter=startswith(displayName,'filter user')")).json()
    assert len(starts["value"]) == 3
    no_header = await http.get("/v1.0/users?$count=true")
    assert no_header.status_code == 400
    counted = await http.get(
        "/v1.0/users?$count=true&$top=1", headers={"ConsistencyLevel": "eventual"}
    )
    assert counted.json()["@odata.count"] == 3
    advanced = await http.get("/v1.0/users?$filter=displayName ne 'x'")
    assert advanced.status_code == 400
    assert advanced.json()["error"]["code"] == "Request_UnsupportedQuery"


async def test_an_app_id_filters_service_principals_by_prefix_but_applications_only_by_value(
    http: httpx.AsyncClient,
) -> None:
    await http.post("/_emulator/generate", json={"applications": 12, "servicePrincipals": 20})
    principals = (await http.get("/v1.0/servicePrincipals?$select=id,appId")).json()["value"]
    digit = principals[0]["appId"][0]
    expanded = await http.get(
        f"/v1.0/servicePrincipals?$filter=startswith(appId,'{digit.upper()}')"
        "&$select=id&$expand=owners($select=id)&$top=100"
    )
    assert expanded.status_code == 200
    want = {sp["id"] for sp in principals if sp["appId"].startswith(digit)}
    assert {sp["id"] for sp in expanded.json()["value"]} == want
    assert all("owners" in sp for sp in expanded.json()["value"])
    apps = (await http.get("/v1.0/applications?$select=appId")).json()["value"]
    by_value = await http.get(f"/v1.0/applications?$filter=appId eq '{apps[0]['appId']}'")
    assert [a["appId"] for a in by_value.json()["value"]] == [apps[0]["appId"]]
    by_prefix = await http.get(f"/v1.0/applications?$filter=startswith(appId,'{digit}')")
    assert by_prefix.status_code == 400
    assert by_prefix.json()["error"]["code"] == "Request_UnsupportedQuery"
    assert by_prefix.json()["error"]["message"] == (
        "Unsupported or invalid query filter clause specified for property 'appId' "
        "of resource 'Application'."
    )


async def test_group_create_response_and_security_group_hard_delete(
    http: httpx.AsyncClient,
) -> None:
    group = await new_group(http, "Operations group", description="ops")
    assert group["securityEnabled"] is True
    assert group["mail"] is None
    assert group["securityIdentifier"].startswith("S-1-12-1-")
    assert "hasMembersWithLicenseErrors" not in group
    assert (await http.delete(f"/v1.0/groups/{group['id']}")).status_code == 204
    bin_ = (await http.get("/v1.0/directory/deletedItems/microsoft.graph.group")).json()
    assert bin_["value"] == []


async def test_unified_group_gets_mail_and_soft_deletes(http: httpx.AsyncClient) -> None:
    group = await new_group(http, "Library Assist", unified=True)
    assert group["mail"] == "libraryassist@contoso.com"
    assert group["proxyAddresses"] == ["SMTP:libraryassist@contoso.com"]
    assert group["visibility"] == "Public"
    await http.delete(f"/v1.0/groups/{group['id']}")
    bin_ = (await http.get("/v1.0/directory/deletedItems/microsoft.graph.group")).json()
    assert [g["id"] for g in bin_["value"]] == [group["id"]]


async def test_mail_enabled_security_group_cannot_be_created(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1.0/groups",
        json={
            "displayName": "x",
            "mailNickname": "x",
            "mailEnabled": True,
            "securityEnabled": True,
        },
    )
    assert response.status_code == 400
    assert "mail-enabled groups" in response.json()["error"]["message"]


async def test_application_and_service_principal(http: httpx.AsyncClient) -> None:
    app = await new_app(http, "Display name")
    assert app["signInAudience"] == "AzureADandPersonalMicrosoftAccount"
    assert app["api"]["requestedAccessTokenVersion"] == 2
    assert app["web"]["implicitGrantSettings"] == {
        "enableAccessTokenIssuance": False,
        "enableIdTokenIssuance": False,
    }
    assert app["publisherDomain"] == "contoso.onmicrosoft.com"
    patched = await http.patch(
        f"/v1.0/applications/{app['id']}", json={"web": {"redirectUris": ["https://localhost"]}}
    )
    assert patched.status_code == 204
    got = (await http.get(f"/v1.0/applications(appId='{app['appId']}')")).json()
    assert got["web"]["redirectUris"] == ["https://localhost"]
    # The PATCH merged into web: the implicit grant settings are still there.
    assert got["web"]["implicitGrantSettings"]["enableIdTokenIssuance"] is False
    sp = await new_sp(http, app["appId"])
    assert sp["appDisplayName"] == "Display name"
    assert sp["servicePrincipalNames"] == [app["appId"]]
    again = await http.post("/v1.0/servicePrincipals", json={"appId": app["appId"]})
    assert again.status_code == 409
    unknown = await http.post(
        "/v1.0/servicePrincipals", json={"appId": "6a1b1e1e-0000-4000-8000-000000000000"}
    )
    assert unknown.status_code == 400


async def test_application_password_credentials_are_not_patchable(http: httpx.AsyncClient) -> None:
    app = await new_app(http)
    response = await http.patch(f"/v1.0/applications/{app['id']}", json={"passwordCredentials": []})
    assert response.status_code == 400
    assert "addPassword" in response.json()["error"]["message"]
    added = await http.post(
        f"/v1.0/applications/{app['id']}/addPassword",
        json={"passwordCredential": {"displayName": "ci"}},
    )
    assert added.status_code == 200
    secret = added.json()
    assert secret["secretText"]
    assert secret["hint"] == secret["secretText"][:3]
    stored = (await http.get(f"/v1.0/applications/{app['id']}?$select=passwordCredentials")).json()
    assert stored["passwordCredentials"][0]["secretText"] is None


async def test_conditional_access_policy_crud(http: httpx.AsyncClient) -> None:
    body = {
        "displayName": "Require MFA",
        "state": "enabled",
        "conditions": {
            "applications": {"includeApplications": ["All"]},
            "users": {"includeUsers": ["All"]},
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
    }
    created = await http.post("/v1.0/identity/conditionalAccess/policies", json=body)
    assert created.status_code == 201
    policy = created.json()
    assert policy["conditions"]["clientAppTypes"] == ["all"]
    assert policy["conditions"]["users"]["excludeGroups"] == []
    assert policy["modifiedDateTime"] is None
    patched = await http.patch(
        f"/v1.0/identity/conditionalAccess/policies/{policy['id']}",
        json={"conditions": {"signInRiskLevels": ["high"]}},
    )
    assert patched.status_code == 204
    got = (await http.get(f"/v1.0/identity/conditionalAccess/policies/{policy['id']}")).json()
    assert got["conditions"]["signInRiskLevels"] == ["high"]
    assert got["conditions"]["users"]["includeUsers"] == ["All"]
    assert got["modifiedDateTime"] is not None
    listed = (await http.get("/v1.0/identity/conditionalAccess/policies")).json()
    assert listed["@odata.context"] == f"{BASE}/$metadata#identity/conditionalAccess/policies"
    assert [p["id"] for p in listed["value"]] == [policy["id"]]


async def test_named_locations_require_odata_type(http: httpx.AsyncClient) -> None:
    untyped = await http.post(
        "/v1.0/identity/conditionalAccess/namedLocations", json={"displayName": "x"}
    )
    assert untyped.status_code == 400
    created = await http.post(
        "/v1.0/identity/conditionalAccess/namedLocations",
        json={
            "@odata.type": "#microsoft.graph.countryNamedLocation",
            "displayName": "Countries",
            "countriesAndRegions": ["US"],
        },
    )
    assert created.status_code == 201
    location = created.json()
    assert location["@odata.type"] == "#microsoft.graph.countryNamedLocation"
    listed = (await http.get("/v1.0/identity/conditionalAccess/namedLocations")).json()
    assert listed["value"][0]["@odata.type"] == "#microsoft.graph.countryNamedLocation"
    wrong_type = await http.patch(
        f"/v1.0/identity/conditionalAccess/namedLocations/{location['id']}",
        json={"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "y"},
    )
    assert wrong_type.status_code == 400


async def test_grants_have_graph_ids_and_only_scope_changes(http: httpx.AsyncClient) -> None:
    client_app = await new_app(http, "Client")
    client = await new_sp(http, client_app["appId"])
    graph_sp = await new_sp(http, "00000003-0000-0000-c000-000000000000")
    user = await new_user(http)
    created = await http.post(
        "/v1.0/oauth2PermissionGrants",
        json={
            "clientId": client["id"],
            "consentType": "Principal",
            "principalId": user["id"],
            "resourceId": graph_sp["id"],
            "scope": "User.Read.All Group.Read.All",
        },
    )
    assert created.status_code == 201
    grant = created.json()
    assert not is_guid(grant["id"])
    assert len(grant["id"]) == 64  # three GUIDs, base64url
    # base64url ids are case-sensitive: a filter finds the grant by its exact id only
    for path in ("/v1.0/oauth2PermissionGrants", "/v1.0/oauth2PermissionGrants/delta"):
        found = await http.get(path, params={"$filter": f"id eq '{grant['id']}'"})
        assert [g["id"] for g in found.json()["value"]] == [grant["id"]], path
    counted = await http.get(
        "/v1.0/oauth2PermissionGrants/$count",
        params={"$filter": f"id eq '{grant['id']}'"},
        headers={"ConsistencyLevel": "eventual"},
    )
    assert counted.text == "1"
    assert (
        await http.patch(
            f"/v1.0/oauth2PermissionGrants/{grant['id']}", json={"scope": "User.Read.All"}
        )
    ).status_code == 204
    refused = await http.patch(
        f"/v1.0/oauth2PermissionGrants/{grant['id']}", json={"consentType": "AllPrincipals"}
    )
    assert refused.status_code == 400
    assert (await http.delete(f"/v1.0/oauth2PermissionGrants/{grant['id']}")).status_code == 204


async def test_app_role_assignment_views(http: httpx.AsyncClient) -> None:
    role_id = "ef7437e6-4f94-4a0a-a110-a439eb2aa8f7"
    app = await new_app(
        http,
        "Fabrikam App",
        appRoles=[
            {
                "allowedMemberTypes": ["User"],
                "description": "Readers",
                "displayName": "Reader",
                "id": role_id,
                "isEnabled": True,
                "value": "Read",
            }
        ],
    )
    resource = await new_sp(http, app["appId"])
    group = await new_group(http, "Parents of Contoso")
    created = await http.post(
        f"/v1.0/servicePrincipals/{resource['id']}/appRoleAssignedTo",
        json={"principalId": group["id"], "resourceId": resource["id"], "appRoleId": role_id},
    )
    assert created.status_code == 201
    assignment = created.json()
    assert assignment["principalType"] == "Group"
    assert assignment["principalDisplayName"] == "Parents of Contoso"
    assert assignment["resourceDisplayName"] == "Fabrikam App"
    assert not is_guid(assignment["id"])
    via_group = (await http.get(f"/v1.0/groups/{group['id']}/appRoleAssignments")).json()
    assert [a["id"] for a in via_group["value"]] == [assignment["id"]]
    duplicate = await http.post(
        f"/v1.0/servicePrincipals/{resource['id']}/appRoleAssignedTo",
        json={"principalId": group["id"], "resourceId": resource["id"], "appRoleId": role_id},
    )
    assert duplicate.status_code == 400
    no_patch = await http.patch(
        f"/v1.0/servicePrincipals/{resource['id']}/appRoleAssignedTo/{assignment['id']}", json={}
    )
    assert no_patch.status_code == 405
    removed = await http.delete(
        f"/v1.0/servicePrincipals/{resource['id']}/appRoleAssignedTo/{assignment['id']}"
    )
    assert removed.status_code == 204


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/v1.0/organization/84841066-274d-4ec0-a5c1-276be684bdd3", "DELETE"),
        ("/v1.0/policies/authorizationPolicy", "DELETE"),
        ("/v1.0/policies/authorizationPolicy", "POST"),
        ("/v1.0/organization", "POST"),
        ("/v1.0/users/00000000-0000-4000-8000-000000000000", "PUT"),
    ],
)
async def test_unsupported_methods_answer_405(
    http: httpx.AsyncClient, path: str, method: str
) -> None:
    response = await http.request(method, path, json={})
    assert response.status_code == 405
    assert response.json()["error"] == {
        "code": "Request_BadRequest",
        "message": "Specified HTTP method is not allowed for the request target.",
        "innerError": response.json()["error"]["innerError"],
    }


async def test_singletons(http: httpx.AsyncClient) -> None:
    org = (await http.get("/v1.0/organization")).json()["value"][0]
    assert org["id"] == "84841066-274d-4ec0-a5c1-276be684bdd3"
    assert {d["name"] for d in org["verifiedDomains"]} == {"contoso.com", "contoso.onmicrosoft.com"}
    readonly = await http.patch(f"/v1.0/organization/{org['id']}", json={"displayName": "x"})
    assert readonly.status_code == 400
    ok = await http.patch(
        f"/v1.0/organization/{org['id']}", json={"technicalNotificationMails": ["it@contoso.com"]}
    )
    assert ok.status_code == 204
    policy = (await http.get("/v1.0/policies/authorizationPolicy")).json()
    assert policy["id"] == "authorizationPolicy"
    await http.patch(
        "/v1.0/policies/authorizationPolicy",
        json={"defaultUserRolePermissions": {"allowedToCreateApps": False}},
    )
    policy = (await http.get("/v1.0/policies/authorizationPolicy")).json()
    assert policy["defaultUserRolePermissions"]["allowedToCreateApps"] is False
    assert policy["defaultUserRolePermissions"]["allowedToReadOtherUsers"] is True
    methods = (await http.get("/v1.0/policies/authenticationMethodsPolicy")).json()
    configs = {c["id"]: c for c in methods["authenticationMethodConfigurations"]}
    assert (
        configs["Fido2"]["@odata.type"] == "#microsoft.graph.fido2AuthenticationMethodConfiguration"
    )
    patched = await http.patch(
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2",
        json={
            "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
            "state": "enabled",
        },
    )
    assert patched.status_code == 204
    fido = (
        await http.get(
            "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2"
        )
    ).json()
    assert fido["state"] == "enabled"


async def test_count_segment(http: httpx.AsyncClient) -> None:
    await generate(http, users=12, groups=3, applications=0, servicePrincipals=0)
    eventual = {"ConsistencyLevel": "eventual"}
    assert (await http.get("/v1.0/users/$count", headers=eventual)).text == "12"
    assert (await http.get("/v1.0/groups/$count", headers=eventual)).text == "3"
    filtered = await http.get(
        "/v1.0/users/$count?$filter=startswith(displayName,'zzz')", headers=eventual
    )
    assert filtered.text == "0"
    assert (await http.get("/v1.0/users/$count")).status_code == 400
