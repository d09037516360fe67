"""The one place where errors become HTTP answers.

Every error body has DESIGN's shape, ``{"error": {"code", "message"}}`` (plus ``details``
when there are any). Services raise ``rewind_common.errors`` types and know nothing about
status codes; anything unexpected becomes a 500 ``internalError`` whose body says nothing
about the internals (the log has the traceback).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rewind_common.errors import (
    AuthenticationRequired,
    Conflict,
    DependencyUnavailable,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PlanRefused,
    RateLimited,
    RewindError,
)

log = logging.getLogger(__name__)

#: Most specific first: the first class an error is an instance of decides its status.
STATUS_BY_ERROR: tuple[tuple[type[RewindError], int], ...] = (
    (InvalidRequest, 400),  # InvalidScope too
    (AuthenticationRequired, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PlanRefused, 422),
    (RateLimited, 429),
    (DependencyUnavailable, 503),
)

_CODES_BY_STATUS = {
    400: "invalidRequest",
    401: "unauthenticated",
    403: "forbidden",
    404: "notFound",
    405: "methodNotAllowed",
    406: "notAcceptable",
    409: "conflict",
    413: "requestTooLarge",
    415: "unsupportedMediaType",
    422: "invalidRequest",
    429: "rateLimited",
    503: "serviceUnavailable",
}


def status_for(error: RewindError) -> int:
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 500


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def error_response(error: RewindError) -> JSONResponse:
    status = status_for(error)
    if status == 500:
        # A RewindError nobody mapped is still a bug to look at; its message may name
        # internals, so the client gets the generic answer.
        log.error("unmapped error %s: %s", type(error).__name__, error.message)
        return _internal_error()
    headers: dict[str, str] = {}
    if isinstance(error, AuthenticationRequired):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after_seconds)))
    return JSONResponse(
        error_body(error.code, error.message, error.details or None),
        status_code=status,
        headers=headers,
    )


def _internal_error() -> JSONResponse:
    return JSONResponse(
        error_body("internalError", "the server failed to handle this request; it was logged"),
        status_code=500,
    )


def _location(loc: Sequence[int | str]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        where, rest = parts[0], parts[1:]
        return f"{where}.{'.'.join(rest)}" if rest else where
    return ".".join(parts)


def validation_message(errors: Sequence[Any]) -> tuple[str, list[dict[str, str]]]:
    """A one-line message naming every invalid input, and the same as a list."""
    items: list[dict[str, str]] = []
    for error in errors:
        location = _location(error.get("loc", ()))
        message = str(error.get("msg", "is invalid"))
        if error.get("type") == "json_invalid":
            message = "the request body is not valid JSON"
        elif error.get("type") == "missing":
            message = "is required"
        elif error.get("type") == "extra_forbidden":
            message = "is not a known field"
        items.append({"location": location, "message": message})
    text = "; ".join(f"{item['location']}: {item['message']}" for item in items)
    return (text or "the request is invalid"), items


async def _rewind_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RewindError)
    return error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    message, items = validation_message(exc.errors())
    return JSONResponse(
        error_body("invalidRequest", message, {"errors": items}),
        status_code=400,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODES_BY_STATUS.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code
    if exc.status_code == 404 and message == "Not Found":
        message = f"no route {request.url.path}"
    headers = dict(exc.headers or {})
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _internal_error()


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RewindError, _rewind_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
