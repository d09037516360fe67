"""Worker side of job statuses: every change becomes a message on the ``job-status``
queue, numbered so the recorder can apply messages in order and only once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from rewind_common.errors import DependencyUnavailable
from rewind_common.jobs.control import JobControl
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import JobError, JobStatus, JobWarning, Progress
from rewind_common.tasks import Queue, TaskName

#: Sends one message to the status queue: ``publish(task_name, payload)``.
Publisher = Callable[[str, dict[str, Any]], None]


def celery_publisher(app: Any) -> Publisher:
    """Publish through a Celery app, retrying while the broker is briefly away."""

    def publish(task_name: str, payload: dict[str, Any]) -> None:
        app.send_task(
            task_name,
            args=[payload],
            queue=Queue.JOB_STATUS.value,
            retry=True,
            retry_policy={
                "max_retries": 20,
                "interval_start": 0.2,
                "interval_step": 0.5,
                "interval_max": 3.0,
            },
        )

    return publish


class StatusReporter:
    """Reports one job's statuses. Keeps the last status so progress updates and
    warnings can be sent without restating it."""

    def __init__(
        self,
        job_id: str,
        tenant_id: str,
        control: JobControl,
        publish: Publisher,
        status: JobStatus = JobStatus.QUEUED,
    ) -> None:
        self.job_id = job_id
        self.tenant_id = tenant_id
        self.status = status
        self._control = control
        self._publish = publish

    async def send(
        self,
        status: JobStatus | None = None,
        *,
        progress: Progress | None = None,
        warnings: list[JobWarning] | None = None,
        counters: Mapping[str, int] | None = None,
        error: JobError | None = None,
        result: Mapping[str, Any] | None = None,
    ) -> None:
        if status is not None:
            self.status = status
        message = StatusMessage(
            job_id=self.job_id,
            tenant_id=self.tenant_id,
            seq=await self._control.next_seq(self.job_id),
            status=self.status,
            progress=progress,
            warnings=warnings or [],
            counters=dict(counters) if counters is not None else None,
            error=error,
            result=dict(result) if result is not None else None,
        )
        payload = message.model_dump(mode="json", by_alias=True)
        try:
            await asyncio.to_thread(self._publish, TaskName.JOB_STATUS.value, payload)
        except Exception as exc:
            raise DependencyUnavailable(f"cannot publish job status: {exc}") from exc
