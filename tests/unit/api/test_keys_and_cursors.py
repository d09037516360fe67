"""Tokens, idempotency fingerprints and paging cursors."""

from __future__ import annotations

import re

import pytest

from rewind_common.errors import InvalidRequest
from rewind_common.storage.idempotency import request_hash
from rewind_common.storage.mongo import decode_cursor, encode_cursor
from rewind_common.storage.tokens import generate_token, hash_token


def test_tokens_are_prefixed_random_and_hashed() -> None:
    tokens = {generate_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        assert re.fullmatch(r"rwd_[A-Za-z0-9_\-]{40}", token)
        assert re.fullmatch(r"[0-9a-f]{64}", hash_token(token))
        assert hash_token(token) == hash_token(token)
    assert hash_token("rwd_a") != hash_token("rwd_b")


def test_the_same_request_has_the_same_fingerprint_whatever_the_key_order() -> None:
    route = "POST /v1/tenants/t/snapshots"
    one = request_hash(route, {"mode": "full", "scope": {"types": ["user", "group"]}})
    two = request_hash(route, {"scope": {"types": ["user", "group"]}, "mode": "full"})
    assert one == two


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("POST /v1/tenants/t/snapshots", {"mode": "incremental"}),
        ("POST /v1/tenants/t/snapshots/s2/verify", {"mode": "full"}),
        ("POST /v1/tenants/t/snapshots", {"mode": "full", "extra": None}),
        ("POST /v1/tenants/t/snapshots", {"scope": {"types": ["group", "user"]}, "mode": "full"}),
    ],
)
def test_another_route_or_body_is_another_request(route: str, body: dict[str, object]) -> None:
    reference = request_hash("POST /v1/tenants/t/snapshots", {"mode": "full"})
    assert request_hash(route, body) != reference


def test_cursors_round_trip_and_reject_garbage() -> None:
    position = {"t": "user", "o": "00000000-0000-0000-0000-000000000001"}
    cursor = encode_cursor(position)
    assert re.fullmatch(r"[A-Za-z0-9_\-]+", cursor)
    assert decode_cursor(cursor) == position
    for garbage in ("%%%", "bm90IGpzb24", encode_cursor.__name__):
        with pytest.raises(InvalidRequest):
            decode_cursor(garbage)
