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

from rewind_common.settings import Settings

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

SNAPSHOT_INTERVAL = Gauge(
    "rewind_snapshot_interval_seconds",
    "Configured time between scheduled snapshots, by tenant (0: not scheduled). The "
    "snapshot-overdue alert compares the last success against twice this.",
    ["tenant"],
)

UNMATCHED_ROUTE = "unmatched"


def publish_schedules(settings: Settings) -> None:
    """Each configured tenant's snapshot interval, for alerting on overdue snapshots."""
    for tenant in settings.tenants:
        interval = settings.snapshot_interval_minutes_of(tenant) * 60
        SNAPSHOT_INTERVAL.labels(tenant=tenant.tenant_id).set(interval)


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
