"""Following a job live: its server-sent events drive a rich progress bar until it ends.

A dropped stream is reopened (it starts with the job's current state, so nothing is
missed); the command gives up only after several failed attempts in a row.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from rewind_api.cli.client import ApiClient, ApiError
from rewind_api.cli.context import EXIT_JOB_CANCELED, EXIT_JOB_FAILED, EXIT_OK, stderr

TERMINAL = frozenset({"Completed", "Completed with warnings", "Failed", "Canceled"})
MAX_ATTEMPTS = 5


def exit_code_for(job: Mapping[str, Any]) -> int:
    status = job["status"]
    if status == "Failed":
        return EXIT_JOB_FAILED
    if status == "Canceled":
        return EXIT_JOB_CANCELED
    return EXIT_OK


def _show(progress: Progress, task: TaskID, job: Mapping[str, Any]) -> None:
    counts = job.get("progress") or {}
    done, total = int(counts.get("done", 0)), int(counts.get("total", 0))
    progress.update(
        task,
        description=f"{job['kind']} {job['status']}",
        total=total or None,
        completed=done,
    )


def follow_job(client: ApiClient, tenant_id: str, job_id: str) -> dict[str, Any]:
    """Show the job's progress until it ends; returns the final job."""
    path = f"/v1/tenants/{tenant_id}/jobs/{job_id}/events"
    failures = 0
    job: dict[str, Any] | None = None
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr(),
        transient=False,
    )
    with progress:
        task = progress.add_task("waiting", total=None)
        while True:
            try:
                for event in client.events(path):
                    if event.event != "status":
                        break  # the server stops early (lost Redis): reconnect
                    failures = 0
                    job = dict(event.data)
                    _show(progress, task, job)
                    if job["status"] in TERMINAL:
                        return job
            except ApiError as exc:
                if not exc.unreachable and exc.status < 500:
                    raise
                failures += 1
                if failures >= MAX_ATTEMPTS:
                    raise
            time.sleep(min(0.5 * 2**failures, 5.0))
