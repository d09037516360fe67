"""Prometheus metrics every service exports, named by Prometheus conventions (base units,
``_total`` for counters).

Celery workers run several processes, so metrics use prometheus-client's multiprocess
mode whenever ``PROMETHEUS_MULTIPROC_DIR`` is set: each process writes its samples to
that directory and one HTTP endpoint per service aggregates them
(``serve_metrics``). Dashboards and alert rules under ``deploy/`` query exactly these
names; a test checks they exist.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

from rewind_common.graph.middleware import Observer

log = logging.getLogger(__name__)

_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)

JOBS = Counter(
    "rewind_jobs_total",
    "Jobs that reached a final status, by kind and status.",
    ["kind", "status"],
)
JOB_DURATION = Histogram(
    "rewind_job_duration_seconds",
    "Time from a job's creation to its final status.",
    ["kind"],
    buckets=_DURATION_BUCKETS,
)
SNAPSHOT_OBJECTS = Gauge(
    "rewind_snapshot_objects",
    "Objects captured per type by the tenant's latest snapshot.",
    ["tenant", "type"],
    multiprocess_mode="mostrecent",
)
SNAPSHOT_UNREAD = Gauge(
    "rewind_snapshot_unread_types",
    "1 for each type the tenant's latest snapshot holds incompletely, by what it lacks: "
    "the type's objects (part=objects) or its deleted items (part=deletedItems); else 0.",
    ["tenant", "type", "part"],
    multiprocess_mode="mostrecent",
)
LAST_SNAPSHOT = Gauge(
    "rewind_last_successful_snapshot_timestamp_seconds",
    "Unix time of the tenant's latest successful snapshot.",
    ["tenant"],
    multiprocess_mode="max",
)
SNAPSHOT_STORED_BYTES = Counter(
    "rewind_snapshot_stored_bytes_total",
    "Bytes of object versions stored by snapshots (new versions only).",
    ["tenant"],
)
SNAPSHOT_LOGICAL_BYTES = Counter(
    "rewind_snapshot_logical_bytes_total",
    "Bytes the snapshots would have stored without deduplication.",
    ["tenant"],
)
SNAPSHOT_NEW_VERSIONS = Counter(
    "rewind_snapshot_new_versions_total",
    "Object versions stored that no earlier snapshot had.",
    ["tenant"],
)
CHANGES_DETECTED = Counter(
    "rewind_changes_detected_total",
    "Changes found by difference reports, by object type and change kind.",
    ["type", "change"],
)
RECOVERY_ACTIONS = Counter(
    "rewind_recovery_actions_total",
    "Recovery actions by action and outcome.",
    ["action", "outcome"],
)
GRAPH_REQUESTS = Counter(
    "rewind_graph_requests_total",
    "Requests sent to Microsoft Graph, by method and HTTP status (429 included).",
    ["tenant", "method", "status"],
)
GRAPH_RESOURCE_UNITS = Counter(
    "rewind_graph_resource_units_total",
    "Graph resource units spent, as Graph's throttling table counts them.",
    ["tenant"],
)
QUEUE_DEPTH = Gauge(
    "rewind_queue_depth",
    "Messages waiting in each queue.",
    ["queue"],
    multiprocess_mode="mostrecent",
)


def graph_observer(tenant_id: str) -> Observer:
    """An observer for GraphClient: counts every attempt and its resource units."""

    def observe(method: str, route: str, status: int, units: int) -> None:
        GRAPH_REQUESTS.labels(tenant_id, method, str(status)).inc()
        GRAPH_RESOURCE_UNITS.labels(tenant_id).inc(units)

    return observe


def registry() -> CollectorRegistry:
    """The registry to expose: aggregated over processes in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        aggregated = CollectorRegistry()
        multiprocess.MultiProcessCollector(aggregated)  # type: ignore[no-untyped-call]
        return aggregated
    from prometheus_client import REGISTRY

    return REGISTRY


def exposition() -> bytes:
    return generate_latest(registry())


def serve_metrics(port: int) -> None:
    """Expose /metrics on ``port`` from this (parent) process, if a port is set."""
    if port <= 0:
        return
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
    start_http_server(port, registry=registry())
    log.info("metrics on port %d", port)


def metric_names() -> Iterable[str]:
    """Every metric family this module defines (for the dashboard test)."""
    for metric in (
        JOBS, JOB_DURATION, SNAPSHOT_OBJECTS, SNAPSHOT_UNREAD, LAST_SNAPSHOT, SNAPSHOT_STORED_BYTES,
        SNAPSHOT_LOGICAL_BYTES, SNAPSHOT_NEW_VERSIONS, CHANGES_DETECTED, RECOVERY_ACTIONS,
        GRAPH_REQUESTS, GRAPH_RESOURCE_UNITS, QUEUE_DEPTH,
    ):  # fmt: skip
        yield metric._name
