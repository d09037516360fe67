"""Bearer tokens when ``requireToken`` is on: a JWT past its ``exp`` is refused as Graph
refuses it, and msgraph-sdk, asking its credential for a token per request, keeps
working across token lifetimes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from graph_emulator.app import EmulatorApp
from graph_emulator.errors import AUTHENTICATE_CHALLENGE
from tests.integration.emulator.conftest import generate
from tests.support.tokens import ShortLivedTokens, unsigned_jwt

TENANT = "8b5b1d58-7f0e-4a9b-9a3c-2d4f6e8a1c01"
#: kiota sends a credential's tokens only over https (or to localhost).
SECURE_ORIGIN = "https://graph.test"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def bearer(expires_in: float) -> dict[str, str]:
    now = time.time()
    token = unsigned_jwt(TENANT, "https://graph.microsoft.com", now, now + expires_in)
    return {"Authorization": f"Bearer {token}"}


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


@pytest.fixture
async def required(http: httpx.AsyncClient) -> httpx.AsyncClient:
    response = await http.put("/_emulator/config", json={"requireToken": True})
    assert response.status_code == 200
    return http


async def test_an_expired_token_is_refused_as_graph_refuses_it(
    required: httpx.AsyncClient,
) -> None:
    response = await required.get("/v1.0/users", headers={**bearer(-1), "client-request-id": "c-1"})

    assert response.status_code == 401
    assert error(response)["code"] == "InvalidAuthenticationToken"
    assert error(response)["message"] == "Lifetime validation failed, the token is expired."
    assert error(response)["innerError"]["client-request-id"] == "c-1"
    assert error(response)["innerError"]["request-id"] == response.headers["request-id"]
    assert response.headers["WWW-Authenticate"] == AUTHENTICATE_CHALLENGE
    assert "claims=" not in response.headers["WWW-Authenticate"]


async def test_a_missing_token_carries_the_same_challenge(required: httpx.AsyncClient) -> None:
    response = await required.get("/v1.0/users")

    assert response.status_code == 401
    assert error(response)["message"] == "Access token is empty."
    assert response.headers["WWW-Authenticate"] == AUTHENTICATE_CHALLENGE


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer opaque-token-without-claims",
        "Bearer a.b.c",  # three parts that are not a JWT
        # a JWT without exp: nothing to say it has expired
        "Bearer eyJhbGciOiJub25lIn0.eyJhcHBpZCI6ImFwcCJ9.",
    ],
)
async def test_tokens_without_an_expiry_are_still_accepted(
    required: httpx.AsyncClient, authorization: str
) -> None:
    response = await required.get("/v1.0/users", headers={"Authorization": authorization})
    assert response.status_code == 200, response.text


async def test_a_token_still_valid_is_accepted_and_refused_once_it_expires(
    required: httpx.AsyncClient,
) -> None:
    headers = bearer(0.3)
    assert (await required.get("/v1.0/organization", headers=headers)).status_code == 200
    await asyncio.sleep(0.35)
    assert (await required.get("/v1.0/organization", headers=headers)).status_code == 401


async def test_an_expired_token_is_accepted_while_tokens_are_not_required(
    http: httpx.AsyncClient,
) -> None:
    assert (await http.get("/v1.0/users", headers=bearer(-60))).status_code == 200


async def test_a_batch_is_judged_by_its_own_token_only(required: httpx.AsyncClient) -> None:
    expired = bearer(-1)["Authorization"]
    body = {
        "requests": [
            {"id": "1", "method": "GET", "url": "/organization"},
            # a request's own Authorization header is not what Graph judges
            {"id": "2", "method": "GET", "url": "/users", "headers": {"Authorization": expired}},
        ]
    }

    accepted = await required.post("/v1.0/$batch", json=body, headers=bearer(60))
    refused = await required.post("/v1.0/$batch", json=body, headers=bearer(-1))

    assert accepted.status_code == 200
    assert sorted(r["status"] for r in accepted.json()["responses"]) == [200, 200]
    assert refused.status_code == 401
    assert error(refused)["code"] == "InvalidAuthenticationToken"
    stats = (await required.get("/_emulator/stats")).json()
    assert stats["byStatus"] == {"200": 3, "401": 1}
    # the refused envelope counts under its route, as the accepted one does
    assert stats["byRoute"]["POST /$batch"] == 2
    assert "POST (unmatched)" not in stats["byRoute"]


async def test_an_injected_401_is_the_expired_token_answer(required: httpx.AsyncClient) -> None:
    fault = {"method": "GET", "pathRegex": "/users", "status": 401, "times": 1}
    assert (await required.post("/_emulator/faults", json=fault)).status_code == 201

    response = await required.get("/v1.0/users", headers=bearer(60))

    assert response.status_code == 401
    assert error(response)["message"] == "Lifetime validation failed, the token is expired."
    assert response.headers["WWW-Authenticate"] == AUTHENTICATE_CHALLENGE


# -- through msgraph-sdk and an azure-core token credential --------------------------------


@pytest.fixture
async def secure_http(app: EmulatorApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=SECURE_ORIGIN) as client:
        yield client


def sdk(app: EmulatorApp, credential: ShortLivedTokens) -> GraphServiceClient:
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(
            base_url=SECURE_ORIGIN + "/v1.0", transport=httpx.ASGITransport(app=app)
        )
    )
    provider = AzureIdentityAuthenticationProvider(
        credential, scopes=[SECURE_ORIGIN + "/.default"], allowed_hosts=["graph.test"]
    )
    return GraphServiceClient(request_adapter=GraphRequestAdapter(provider, client=http))


async def test_msgraph_sdk_outlives_its_tokens_when_the_credential_renews_them(
    app: EmulatorApp, secure_http: httpx.AsyncClient
) -> None:
    await generate(secure_http, users=5, groups=0, seed=3)
    await secure_http.put("/_emulator/config", json={"requireToken": True})
    credential = ShortLivedTokens(TENANT, lifetime=0.4, refresh_margin=0.2)
    graph = sdk(app, credential)

    requests = 0
    # three lifetimes, counted from the first answer: msgraph-sdk's first call imports
    # its models, which can take longer than a token lives
    started: float | None = None
    while started is None or time.monotonic() - started < 1.2:
        users = await graph.users.get()
        requests += 1
        started = started or time.monotonic()
        assert users is not None
        assert users.value is not None
        assert len(users.value) == 5
        await asyncio.sleep(0.05)

    assert len(credential.issued) >= 3
    assert credential.calls == requests
    assert credential.scopes == {SECURE_ORIGIN + "/.default"}
    stats = (await secure_http.get("/_emulator/stats")).json()
    assert "401" not in stats["byStatus"]


async def test_msgraph_sdk_surfaces_an_expired_token_once_without_retrying(
    app: EmulatorApp, secure_http: httpx.AsyncClient
) -> None:
    await secure_http.put("/_emulator/config", json={"requireToken": True})
    credential = ShortLivedTokens(TENANT, lifetime=1.0, renew=False)
    graph = sdk(app, credential)
    assert await graph.organization.get() is not None
    await asyncio.sleep(max(credential.expires_at - time.time(), 0) + 0.05)

    with pytest.raises(ODataError) as raised:
        await graph.organization.get()

    assert raised.value.response_status_code == 401
    assert raised.value.error is not None
    assert raised.value.error.code == "InvalidAuthenticationToken"
    # no claims in the challenge: msgraph-sdk does not send the request again
    stats = (await secure_http.get("/_emulator/stats")).json()
    assert stats["byStatus"] == {"200": 1, "401": 1}
