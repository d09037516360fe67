"""Errors map to HTTP status codes in one place, with DESIGN's error shape."""

from __future__ import annotations

import json

import pytest

from rewind_api.errors import error_response, status_for, validation_message
from rewind_common.errors import (
    AuthenticationRequired,
    Conflict,
    DependencyUnavailable,
    GraphError,
    IntegrityError,
    InvalidRequest,
    InvalidScope,
    NotFound,
    PermissionDenied,
    PlanRefused,
    RateLimited,
    RewindError,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidRequest("bad"), 400),
        (InvalidScope("bad scope"), 400),
        (AuthenticationRequired("who?"), 401),
        (PermissionDenied("no"), 403),
        (NotFound("gone"), 404),
        (Conflict("again"), 409),
        (PlanRefused("unsafe"), 422),
        (RateLimited("slow down", retry_after_seconds=2.5), 429),
        (DependencyUnavailable("Redis unreachable"), 503),
        (IntegrityError("hash mismatch"), 500),
        (GraphError("boom", status=500, graph_code="x"), 500),
    ],
)
def test_each_error_has_its_status(error: RewindError, status: int) -> None:
    assert status_for(error) == status
    assert error_response(error).status_code == status


def _body(error: RewindError) -> dict[str, object]:
    return dict(json.loads(bytes(error_response(error).body)))


def test_the_body_carries_code_message_and_details() -> None:
    assert _body(InvalidScope("unknown type 'x'")) == {
        "error": {"code": "invalidScope", "message": "unknown type 'x'"}
    }
    limited = _body(RateLimited("slow down", retry_after_seconds=2.5))
    assert limited == {
        "error": {
            "code": "rateLimited",
            "message": "slow down",
            "details": {"retryAfterSeconds": 2.5},
        }
    }


def test_401_asks_for_a_bearer_token_and_429_says_when_to_retry() -> None:
    assert error_response(AuthenticationRequired("x")).headers["WWW-Authenticate"] == "Bearer"
    assert error_response(RateLimited("x", retry_after_seconds=2.1)).headers["Retry-After"] == "3"
    assert error_response(RateLimited("x", retry_after_seconds=0)).headers["Retry-After"] == "1"


def test_unmapped_errors_do_not_leak_their_message() -> None:
    body = _body(IntegrityError("version abc of user u1 in mongodb://secret@db"))
    assert body == {
        "error": {
            "code": "internalError",
            "message": "the server failed to handle this request; it was logged",
        }
    }


def test_validation_messages_name_every_invalid_input() -> None:
    message, items = validation_message(
        [
            {"loc": ("body", "mode"), "msg": "Input should be 'full' or 'incremental'"},
            {"loc": ("query", "limit"), "msg": "Input should be less than or equal to 500"},
            {"loc": ("body", "reason"), "msg": "Field required", "type": "missing"},
            {"loc": ("body", "x"), "msg": "Extra inputs", "type": "extra_forbidden"},
            {"loc": ("body",), "msg": "JSON decode error", "type": "json_invalid"},
        ]
    )
    assert message == (
        "body.mode: Input should be 'full' or 'incremental'; "
        "query.limit: Input should be less than or equal to 500; "
        "body.reason: is required; body.x: is not a known field; "
        "body: the request body is not valid JSON"
    )
    assert items[0] == {
        "location": "body.mode",
        "message": "Input should be 'full' or 'incremental'",
    }
