"""Content addressing: SHA-256 over the RFC 8785 canonical JSON form of a body."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import rfc8785


def canonical_json(value: Mapping[str, Any] | list[Any]) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes: sorted keys, no whitespace, ES6
    number formatting, so equal JSON values always have equal bytes."""
    return bytes(rfc8785.dumps(value))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def version_hash(body: Mapping[str, Any]) -> str:
    """The id of an object version: SHA-256 of its canonical JSON."""
    return sha256_hex(canonical_json(body))
