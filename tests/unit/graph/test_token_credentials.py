"""The Graph client takes a token credential through its factory, asks it for a token
per request, and turns Graph's 401 into an error that says the token was refused."""

from __future__ import annotations

import pytest
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)

from rewind_common.graph.credentials import authentication_provider
from rewind_common.graph.errors import graph_error
from rewind_common.settings import TenantConnection
from tests.support.tokens import ShortLivedTokens

TENANT = "33333333-3333-3333-3333-333333333333"


def _tenant(**fields: object) -> TenantConnection:
    return TenantConnection.model_validate({"tenantId": TENANT, **fields})


async def test_a_given_credential_is_asked_for_every_request_with_the_tenants_scope() -> None:
    tenant = _tenant(credential="none", graphBaseUrl="https://graph.example/v1.0")
    credential = ShortLivedTokens(TENANT, lifetime=3600)
    provider, closeable = authentication_provider(tenant, credential)

    assert isinstance(provider, AzureIdentityAuthenticationProvider)
    assert closeable is None, "whoever passes a credential closes it"
    tokens = provider.access_token_provider
    first = await tokens.get_authorization_token("https://graph.example/v1.0/users")
    second = await tokens.get_authorization_token("https://graph.example/v1.0/groups")
    elsewhere = await tokens.get_authorization_token("https://elsewhere.example/v1.0/users")

    assert first == second == credential.issued[0].token
    assert elsewhere == ""
    assert credential.calls == 2
    assert credential.scopes == {"https://graph.example/.default"}


async def test_without_a_given_credential_the_settings_choose() -> None:
    secret = _tenant(credential="clientSecret", clientId="app", clientSecret="s3cret")
    provider, closeable = authentication_provider(secret, None)
    assert isinstance(provider, AzureIdentityAuthenticationProvider)
    assert closeable is not None
    await closeable.close()


@pytest.mark.parametrize(
    "url", ["/users/delta()", "https://graph.microsoft.com/v1.0/users/delta()?$skiptoken=X"]
)
def test_a_refused_token_says_so_and_where(url: str) -> None:
    body = {
        "error": {
            "code": "InvalidAuthenticationToken",
            "message": "Lifetime validation failed, the token is expired.",
            "innerError": {"request-id": "r-1"},
        }
    }
    error = graph_error(401, body, {}, method="GET", url=url)

    assert error.status == 401
    assert error.graph_code == "InvalidAuthenticationToken"
    assert error.request_id == "r-1"
    assert error.message.startswith("Microsoft Graph refused the access token for GET ")
    assert "(401 InvalidAuthenticationToken)" in error.message
    assert error.message.endswith("Lifetime validation failed, the token is expired.")
    assert "skiptoken" not in error.message
