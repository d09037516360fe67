"""The emulator's bearer token check: only a missing token or a JWT past its ``exp`` is
refused; signatures are not checked."""

from __future__ import annotations

import pytest

from graph_emulator import errors
from graph_emulator.emulator import check_token
from tests.support.tokens import unsigned_jwt

NOW = 1_800_000_000.0
TENANT = "8b5b1d58-7f0e-4a9b-9a3c-2d4f6e8a1c01"


def jwt(expires: float) -> str:
    return "Bearer " + unsigned_jwt(TENANT, "https://graph.microsoft.com", NOW - 3600, expires)


@pytest.mark.parametrize("expires", [NOW - 3600, NOW - 0.001, NOW])
def test_a_jwt_at_or_past_its_expiry_is_refused(expires: float) -> None:
    with pytest.raises(errors.GraphError) as raised:
        check_token(jwt(expires), NOW)
    assert raised.value.status == 401
    assert raised.value.code == "InvalidAuthenticationToken"
    assert raised.value.message == "Lifetime validation failed, the token is expired."
    assert raised.value.headers["WWW-Authenticate"].startswith('Bearer realm=""')


@pytest.mark.parametrize(
    "authorization",
    [
        jwt(NOW + 0.001),
        jwt(NOW + 3600),
        "bearer " + jwt(NOW + 60)[7:],  # the scheme is case-insensitive
        "Bearer opaque",
        "Bearer not.a.jwt",
        "Bearer eyJhbGciOiJub25lIn0.eyJleHAiOiJzb29uIn0.",  # exp that is not a number
        "Bearer eyJhbGciOiJub25lIn0.eyJleHAiOnRydWV9.",  # exp: true
        "Bearer eyJhbGciOiJub25lIn0.WzFd.",  # claims that are not an object
    ],
)
def test_other_tokens_are_accepted(authorization: str) -> None:
    check_token(authorization, NOW)


@pytest.mark.parametrize("authorization", [None, "", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_a_missing_bearer_token_is_refused(authorization: str | None) -> None:
    with pytest.raises(errors.GraphError) as raised:
        check_token(authorization, NOW)
    assert raised.value.status == 401
    assert raised.value.message == "Access token is empty."
