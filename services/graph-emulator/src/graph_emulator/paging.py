"""Opaque state tokens for ``$skiptoken`` and ``$deltatoken``.

Graph's tokens are opaque and carry the query they continue (a nextLink or deltaLink has
no other parameters): the emulator's are base64url JSON for the same reason, signed with
a per-process key so a client cannot hand-craft one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

import orjson

_KEY = secrets.token_bytes(16)


def encode(payload: dict[str, Any]) -> str:
    raw = orjson.dumps(payload)
    mac = hmac.new(_KEY, raw, hashlib.sha256).digest()[:8]
    return base64.urlsafe_b64encode(mac + raw).decode("ascii").rstrip("=")


def decode(token: str) -> dict[str, Any] | None:
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    mac, raw = data[:8], data[8:]
    if not hmac.compare_digest(mac, hmac.new(_KEY, raw, hashlib.sha256).digest()[:8]):
        return None
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None
