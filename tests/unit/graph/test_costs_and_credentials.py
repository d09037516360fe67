from __future__ import annotations

import json

import pytest
from kiota_abstractions.authentication import (
    AnonymousAuthenticationProvider,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)

from rewind_common.graph.client import BatchRequest, GraphClient
from rewind_common.graph.costs import request_cost
from rewind_common.graph.credentials import StaticTokenProvider, authentication_provider
from rewind_common.graph.middleware import batch_cost
from rewind_common.settings import TenantConnection

TENANT = "33333333-3333-3333-3333-333333333333"


@pytest.mark.parametrize(
    ("method", "path", "query", "units", "writes"),
    [
        ("GET", "/users", {}, 2, 0),
        ("GET", "/users", {"$select": "id"}, 1, 0),
        ("GET", "/users/delta()", {}, 2, 0),
        ("GET", "/groups/g1/members", {}, 3, 0),
        ("GET", "/groups/g1/members", {"$top": "5"}, 2, 0),
        ("GET", "/applications", {"$expand": "owners"}, 3, 0),
        ("GET", "/identity/conditionalAccess/policies", {"$select": "id"}, 1, 0),
        ("PATCH", "/users/u1", {}, 1, 1),
        ("POST", "/groups/g1/members/$ref", {}, 1, 1),
    ],
)
def test_resource_unit_costs_follow_graphs_table(
    method: str, path: str, query: dict[str, str], units: int, writes: int
) -> None:
    cost = request_cost(method, path, query)
    assert (cost.resource_units, cost.writes) == (units, writes)


def test_a_batch_costs_the_sum_of_its_requests() -> None:
    body = json.dumps(
        {
            "requests": [
                {"id": "1", "method": "GET", "url": "/users?$select=id"},
                {"id": "2", "method": "PATCH", "url": "/users/u1"},
                {"id": "3", "method": "DELETE", "url": "/groups/g/members/m/$ref"},
            ]
        }
    ).encode()
    cost = batch_cost(body)
    assert (cost.resource_units, cost.writes) == (3, 2)


def test_batch_requests_refuse_urls_graph_would_reject() -> None:
    assert BatchRequest("1", "GET", "/users/u1").to_json()["url"] == "/users/u1"
    for bad in ("https://graph.microsoft.com/v1.0/users", "/v1.0/users/u1"):
        with pytest.raises(ValueError, match="relative"):
            BatchRequest("1", "GET", bad).to_json()


async def test_a_next_link_is_named_relative_to_the_version_for_a_batch() -> None:
    graph = GraphClient(_tenant(credential="none"))
    try:
        link = "https://graph.microsoft.com/v1.0/servicePrincipals?$top=100&$skiptoken=X1"
        assert graph.relative(link) == "/servicePrincipals?$top=100&$skiptoken=X1"
        assert graph.relative("/users/u1") == "/users/u1"
        BatchRequest("1", "GET", graph.relative(link)).to_json()
        with pytest.raises(ValueError, match="not under"):
            graph.relative("https://graph.microsoft.com/beta/servicePrincipals")
    finally:
        await graph.close()


def _tenant(**fields: object) -> TenantConnection:
    return TenantConnection.model_validate({"tenantId": TENANT, **fields})


def test_credentials_are_chosen_by_settings() -> None:
    anonymous, closeable = authentication_provider(_tenant(credential="none"))
    assert isinstance(anonymous, AnonymousAuthenticationProvider)
    assert closeable is None
    static, _ = authentication_provider(
        _tenant(credential="staticToken", staticToken="t0k", graphBaseUrl="http://127.0.0.1:1/v1.0")
    )
    assert isinstance(static, BaseBearerTokenAuthenticationProvider)
    secret, credential = authentication_provider(
        _tenant(credential="clientSecret", clientId="app", clientSecret="s3cret")
    )
    assert isinstance(secret, AzureIdentityAuthenticationProvider)
    assert credential is not None


async def test_a_static_token_is_only_sent_to_the_tenants_graph_host() -> None:
    provider = StaticTokenProvider("t0k", "127.0.0.1")
    assert await provider.get_authorization_token("http://127.0.0.1:8080/v1.0/users") == "t0k"
    assert await provider.get_authorization_token("https://elsewhere.example/v1.0/users") == ""


def test_tenant_settings_refuse_incomplete_credentials_and_hide_secrets() -> None:
    with pytest.raises(ValueError, match="clientSecret"):
        _tenant(credential="clientSecret", clientId="app")
    tenant = _tenant(credential="clientSecret", clientId="app", clientSecret="s3cret")
    assert "s3cret" not in repr(tenant)
    assert "s3cret" not in json.dumps(tenant.public_view())
