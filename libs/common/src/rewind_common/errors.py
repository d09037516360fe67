"""One error hierarchy for every service.

Errors carry a stable machine-readable ``code`` and a human message; they know nothing
about HTTP. The API maps them to status codes at its edge (``rewind_api.errors``), the
workers turn them into job errors and warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class RewindError(Exception):
    """Base of every error Rewind raises on purpose."""

    code: ClassVar[str] = "internalError"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidRequest(RewindError):
    """The caller asked for something malformed; nothing was changed."""

    code = "invalidRequest"


class InvalidScope(InvalidRequest):
    code = "invalidScope"


class NotFound(RewindError):
    code = "notFound"


class Conflict(RewindError):
    """The request conflicts with the current state (e.g. an idempotency key reused)."""

    code = "conflict"


class AuthenticationRequired(RewindError):
    code = "unauthenticated"


class PermissionDenied(RewindError):
    code = "forbidden"


class RateLimited(RewindError):
    code = "rateLimited"

    def __init__(self, message: str, *, retry_after_seconds: float) -> None:
        super().__init__(message, details={"retryAfterSeconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds


class PlanRefused(RewindError):
    """A recovery plan would violate a safety rule (e.g. break-glass exclusions)."""

    code = "planRefused"


class DependencyUnavailable(RewindError):
    """MongoDB, Redis or Microsoft Graph cannot be reached right now."""

    code = "serviceUnavailable"


class ConfigurationError(RewindError):
    code = "configurationError"


class IntegrityError(RewindError):
    """Stored snapshot data does not match its hashes."""

    code = "integrityMismatch"


class InvalidTransition(RewindError):
    """A job status change that the state machine does not allow."""

    code = "invalidTransition"


class JobCanceled(RewindError):
    """Raised inside a worker when the job it runs was canceled."""

    code = "canceled"


class GraphError(RewindError):
    """Microsoft Graph answered with an error.

    ``graph_code`` is Graph's own error code (``Request_ResourceNotFound``...), which
    callers branch on; the message is for people only.
    """

    code = "graphError"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        graph_code: str,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            message, details={"status": status, "graphCode": graph_code, "requestId": request_id}
        )
        self.status = status
        self.graph_code = graph_code
        self.request_id = request_id


class GraphThrottled(GraphError):
    code = "graphThrottled"

    def __init__(
        self,
        message: str,
        *,
        retry_after_seconds: float | None,
        graph_code: str = "TooManyRequests",
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=429, graph_code=graph_code, request_id=request_id)
        self.retry_after_seconds = retry_after_seconds
