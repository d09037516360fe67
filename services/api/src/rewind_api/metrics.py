"""Prometheus metrics of the API process, served on ``/metrics``.

Routes are labelled by their template (``/v1/tenants/{tenant}/jobs/{job_id}``), never by
the concrete path, so ids cannot blow up the number of series. Latency is measured to
the start of the response, which for an event stream is when it opens, not closes.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "rewind_api_requests",
    "HTTP requests answered by the API, by method, route template and status code.",
    ["method", "route", "status"],
)
REQUEST_DURATION = Histogram(
    "rewind_api_request_duration_seconds",
    "Time from receiving a request to starting its response, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENT_STREAMS = Gauge(
    "rewind_api_event_streams",
    "Server-sent event streams of job statuses open right now.",
)
JOBS_CREATED = Counter(
    "rewind_api_jobs_created",
    "Jobs the API created (idempotent replays excluded), by kind.",
    ["kind"],
)

UNMATCHED_ROUTE = "unmatched"


def render_latest() -> tuple[bytes, str]:
    """The exposition text of every registered metric, and its content type."""
    return _generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts and times every HTTP request (pure ASGI, so streams are not buffered)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        elapsed: float | None = None

        async def timed_send(message: Message) -> None:
            nonlocal status, elapsed
            if message["type"] == "http.response.start":
                status = int(message["status"])
                elapsed = time.perf_counter() - started
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
            method = str(scope.get("method", ""))
            REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            duration = elapsed if elapsed is not None else time.perf_counter() - started
            REQUEST_DURATION.labels(method=method, route=route).observe(duration)
