"""Bad input gets Graph's status and error code, never a 500: examples, then a
hypothesis-driven fuzz over paths, methods, query options and bodies."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_emulator.app import EmulatorApp, create_app
from tests.integration.emulator.conftest import ORIGIN, new_group, new_user


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    assert set(body) >= {"code", "message", "innerError"}
    assert set(body["innerError"]) >= {"date", "request-id", "client-request-id"}
    return body


async def test_malformed_json(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1.0/users", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error(response)["code"] == "BadRequest"
    assert error(response)["message"].startswith("Unable to read JSON request payload")


async def test_unknown_and_mistyped_properties(http: httpx.AsyncClient) -> None:
    user = await new_user(http)
    unknown = await http.patch(f"/v1.0/users/{user['id']}", json={"favouriteColour": "blue"})
    assert unknown.status_code == 400
    assert error(unknown) | {"innerError": None} == {
        "code": "Request_BadRequest",
        "message": "Invalid property 'favouriteColour'.",
        "innerError": None,
    }
    mistyped = await http.patch(f"/v1.0/users/{user['id']}", json={"accountEnabled": "maybe"})
    assert mistyped.status_code == 400
    assert error(mistyped)["message"] == (
        "Cannot convert the literal 'maybe' to the expected type 'Edm.Boolean'."
    )
    # .NET converts "true" to a Boolean, so Graph accepts it (the fido2 update example does).
    converted = await http.patch(f"/v1.0/users/{user['id']}", json={"accountEnabled": "false"})
    assert converted.status_code == 204
    nested = await http.post(
        "/v1.0/identity/conditionalAccess/policies",
        json={
            "displayName": "x",
            "state": "enabled",
            "conditions": {
                "applications": {"includeApplications": ["All"]},
                "users": {"includeUsers": ["All"]},
                "deviceStates": {"includeStates": ["All"]},
            },
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
        },
    )
    assert nested.status_code == 400
    assert "'deviceStates' does not exist on type" in error(nested)["message"]


async def test_read_only_properties(http: httpx.AsyncClient) -> None:
    user = await new_user(http)
    response = await http.patch(
        f"/v1.0/users/{user['id']}", json={"createdDateTime": "2020-01-01T00:00:00Z"}
    )
    assert response.status_code == 400
    assert (
        error(response)["message"] == "Property 'createdDateTime' is read-only and cannot be set."
    )
    group = await new_group(http)
    create_only = await http.patch(f"/v1.0/groups/{group['id']}", json={"isAssignableToRole": True})
    assert create_only.status_code == 400


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1.0/groups/not-a-guid", 400, "Request_BadRequest"),
        ("/v1.0/users/nobody@contoso.com", 404, "Request_ResourceNotFound"),
        ("/v1.0/applications/123", 400, "Request_BadRequest"),
        ("/v1.0/widgets", 400, "BadRequest"),
        ("/v1.0/users/delta/extra", 400, "BadRequest"),
        ("/v1.0/users?$frobnicate=1", 400, "BadRequest"),
        ("/v1.0/users?$top=abc", 400, "BadRequest"),
        ("/v1.0/users?$select=noSuchProperty", 400, "Request_UnsupportedQuery"),
        ("/v1.0/users?$filter=startswith(displayName", 400, "BadRequest"),
        ("/v1.0/users?$filter=%3B", 400, "BadRequest"),
        ("/v1.0/identity/conditionalAccess/policies?$select=nope", 400, "BadRequest"),
        ("/beta/users", 400, "BadRequest"),
    ],
)
async def test_bad_paths_and_queries(
    http: httpx.AsyncClient, path: str, status: int, code: str
) -> None:
    response = await http.get(path)
    assert response.status_code == status
    assert error(response)["code"] == code


async def test_unknown_segment_message(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1.0/widgets")
    assert error(response)["message"] == "Resource not found for the segment 'widgets'."


async def test_request_ids_are_echoed(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1.0/widgets", headers={"client-request-id": "abc-123"})
    assert response.headers["client-request-id"] == "abc-123"
    assert error(response)["innerError"]["client-request-id"] == "abc-123"
    assert response.headers["request-id"] == error(response)["innerError"]["request-id"]


async def test_missing_token_when_required(http: httpx.AsyncClient) -> None:
    await http.put("/_emulator/config", json={"requireToken": True})
    denied = await http.get("/v1.0/users")
    assert denied.status_code == 401
    assert error(denied)["code"] == "InvalidAuthenticationToken"
    allowed = await http.get("/v1.0/users", headers={"Authorization": "Bearer anything"})
    assert allowed.status_code == 200


# -- fuzz ---------------------------------------------------------------------------------

_SEGMENTS = st.sampled_from(
    [
        "users",
        "groups",
        "applications",
        "servicePrincipals",
        "oauth2PermissionGrants",
        "identity",
        "conditionalAccess",
        "policies",
        "namedLocations",
        "deletedItems",
        "directory",
        "organization",
        "authorizationPolicy",
        "authenticationMethodsPolicy",
        "authenticationMethodConfigurations",
        "members",
        "owners",
        "manager",
        "$ref",
        "$count",
        "delta",
        "delta()",
        "restore",
        "appRoleAssignedTo",
        "appRoleAssignments",
        "microsoft.graph.user",
        "graph.group",
        "directoryObjects",
        "getByIds",
        "addPassword",
        "(appId='x')",
        "$batch",
        "84841066-274d-4ec0-a5c1-276be684bdd3",
        "00000000-0000-4000-8000-000000000000",
        "Fido2",
        "x%20y",
        "..",
        "%00",
    ]
) | st.text(alphabet="abcdefXYZ0123456789-_.()'=$@", max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_KEYS = st.sampled_from(
    [
        "displayName",
        "accountEnabled",
        "mailNickname",
        "userPrincipalName",
        "passwordProfile",
        "groupTypes",
        "mailEnabled",
        "securityEnabled",
        "members@odata.bind",
        "@odata.type",
        "@odata.id",
        "conditions",
        "state",
        "appId",
        "ipRanges",
        "scope",
        "clientId",
        "requests",
        "id",
        "web",
        "appRoles",
    ]
) | st.text(max_size=10)
_BODIES = st.dictionaries(_KEYS, _JSON, max_size=5).map(
    lambda d: json.dumps(d).encode()
) | st.binary(max_size=40)
_QUERIES = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "$select",
                "$top",
                "$filter",
                "$expand",
                "$count",
                "$skiptoken",
                "$deltatoken",
                "@id",
                "$orderby",
            ]
        ),
        st.text(max_size=20),
    ),
    max_size=3,
)


@pytest.fixture(scope="module")
def fuzz_app() -> EmulatorApp:
    return create_app()


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE"]),
    segments=st.lists(_SEGMENTS, min_size=0, max_size=5),
    query=_QUERIES,
    body=_BODIES,
)
async def test_fuzz_never_answers_500(
    fuzz_app: EmulatorApp,
    method: str,
    segments: list[str],
    query: list[tuple[str, str]],
    body: bytes,
) -> None:
    transport = httpx.ASGITransport(app=fuzz_app)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        response = await client.request(
            method,
            "/v1.0/" + "/".join(segments),
            params=[(k, v) for k, v in query],
            content=body if method != "GET" else None,
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code < 500, (method, segments, query, body, response.text)
    if response.status_code >= 400:
        error(response)
