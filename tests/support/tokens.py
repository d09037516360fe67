"""A token credential whose access tokens expire within a second, so a test job outlives
many of them.

``ShortLivedTokens`` implements azure-core's ``AsyncTokenCredential``, the interface
msgraph-sdk asks for a token on every request. Its tokens are unsigned JWTs (``alg:
none``) carrying the claims an app-only Entra token carries; the Graph emulator reads
their ``exp`` and ignores the missing signature.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import orjson
from azure.core.credentials import AccessToken

CLIENT_APP_ID = "6f1b0c9e-3d2a-4e8b-9c71-5a0d2e4f8b13"


def _segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode()


def unsigned_jwt(tenant_id: str, audience: str, issued: float, expires: float) -> str:
    """An app-only access token as Entra issues one, without its signature."""
    header = {"typ": "JWT", "alg": "none"}
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": int(issued),
        "nbf": int(issued),
        "exp": expires,
        "appid": CLIENT_APP_ID,
        "idtyp": "app",
        "roles": ["Directory.Read.All", "Policy.Read.All"],
        "tid": tenant_id,
        "ver": "1.0",
    }
    return f"{_segment(header)}.{_segment(claims)}."


class ShortLivedTokens:
    """Issues tokens living ``lifetime`` seconds and, like azure-identity's credentials,
    hands out the cached one until less than ``refresh_margin`` of it is left.

    With ``renew=False`` it keeps handing out its first token after that token has
    expired: a credential that never refreshes, for the test that must see a job fail.
    """

    def __init__(
        self,
        tenant_id: str,
        *,
        lifetime: float = 1.0,
        refresh_margin: float = 0.3,
        renew: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenant_id = tenant_id
        self.lifetime = lifetime
        self.refresh_margin = refresh_margin
        self.renew = renew
        self.clock = clock
        self.issued: list[AccessToken] = []
        self.scopes: set[str] = set()
        self.calls = 0
        self.closed = False
        # AccessToken.expires_on is whole seconds: too coarse for second-long tokens
        self._expires = 0.0

    @property
    def expires_at(self) -> float:
        """When the token handed out last expires (0 before the first)."""
        return self._expires

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.calls += 1
        self.scopes.update(scopes)
        now = self.clock()
        if self.issued and (not self.renew or self._expires - now > self.refresh_margin):
            return self.issued[-1]
        audience = scopes[0].removesuffix("/.default") if scopes else "https://graph.microsoft.com"
        self._expires = now + self.lifetime
        token = AccessToken(
            unsigned_jwt(self.tenant_id, audience, now, self._expires), int(self._expires)
        )
        self.issued.append(token)
        return token

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> ShortLivedTokens:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.close()
