"""Opaque state tokens for ``$skiptoken`` and ``$deltatoken``.

Graph's tokens are opaque and carry the query they continue (a nextLink or deltaLink has
no other parameters): the emulator's are base64url JSON for the same reason, signed with
a per-process key so a client cannot hand-craft one.

Graph's tokens are also short, a hundred-odd characters whatever the query (see the
delta examples in Microsoft's docs). A delta round's ``$select`` or id filter would make
a token kilobytes long, which every client pays for in parsing each nextLink: so a long
list is kept here, per process like the key, and the token names it by digest. The least
recently used lists go first; a token naming one that went is answered as an expired
one is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import OrderedDict
from typing import Any

import orjson

_KEY = secrets.token_bytes(16)
#: Lists up to this long stay in the token itself.
_INLINE_ITEMS = 4
_LISTS_KEPT = 4096
_REFERENCE = "~"
_lists: OrderedDict[str, list[Any]] = OrderedDict()


def encode(payload: dict[str, Any]) -> str:
    raw = orjson.dumps({name: _referenced(value) for name, value in payload.items()})
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
    if not isinstance(payload, dict):
        return None
    resolved: dict[str, Any] = {}
    for name, value in payload.items():
        if isinstance(value, dict) and set(value) == {_REFERENCE}:
            kept = _lists.get(str(value[_REFERENCE]))
            if kept is None:
                return None
            _lists.move_to_end(str(value[_REFERENCE]))
            value = list(kept)
        resolved[name] = value
    return resolved


def _referenced(value: Any) -> Any:
    if not isinstance(value, list) or len(value) <= _INLINE_ITEMS:
        return value
    digest = hashlib.sha256(orjson.dumps(value)).hexdigest()[:16]
    _lists[digest] = list(value)
    _lists.move_to_end(digest)
    while len(_lists) > _LISTS_KEPT:
        _lists.popitem(last=False)
    return {_REFERENCE: digest}
