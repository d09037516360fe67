"""Turning Graph's error answers into Rewind errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from rewind_common.errors import DependencyUnavailable, GraphError, GraphThrottled


def retry_after_seconds(headers: Any) -> float | None:
    raw = headers.get("retry-after") if headers is not None else None
    if raw is None:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        return None


def graph_error(status: int, body: Any, headers: Any, *, method: str, url: str) -> GraphError:
    """A ``GraphError`` carrying Graph's own code (``Request_ResourceNotFound``...)."""
    error = body.get("error") if isinstance(body, dict) else None
    code = "unknownError"
    message = f"Graph answered {status} to {method} {url}"
    request_id = None
    if isinstance(error, dict):
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
        inner = error.get("innerError") or error.get("innererror") or {}
        if isinstance(inner, dict):
            request_id = inner.get("request-id")
    if status == 401:
        # Graph's own message ("Lifetime validation failed, the token is expired.") does
        # not say that authentication failed, nor where: a job's error must.
        message = (
            f"Microsoft Graph refused the access token for {method} {urlsplit(url).path} "
            f"({status} {code}): {message}"
        )
    if status == 429:
        return GraphThrottled(
            message,
            retry_after_seconds=retry_after_seconds(headers),
            graph_code=code,
            request_id=request_id,
        )
    return GraphError(message, status=status, graph_code=code, request_id=request_id)


def is_transient(status: int) -> bool:
    """Statuses worth trying again later (after the middleware's own retries)."""
    return status in (429, 500, 502, 503, 504)


def unavailable(method: str, url: str, exc: Exception) -> DependencyUnavailable:
    return DependencyUnavailable(f"Microsoft Graph unreachable ({method} {url}): {exc}")
