"""Runs a job as a chain of short, resumable steps.

A worker killed with SIGKILL must lose nothing, yet Redis redelivers an unacknowledged
message only after its visibility timeout. So no task runs long: a step works until its
time budget is spent, saves a checkpoint, and hands over to a fresh task carrying the
same payload. A redelivered step resumes from the last checkpoint; handlers make every
unit of work idempotent, so work repeated after a crash is applied once.

A lease in Redis keeps two deliveries of one job from running at the same time; a
cancel request is honoured between units of work. The lease is short and renewed while
a step runs, so after ``kill -9`` it lapses within seconds. A delivery that finds it held
is not dropped (it may be the only copy of a killed worker's job): it is sent again once
the lease could have lapsed, until the job has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from rewind_common.errors import DependencyUnavailable, JobCanceled, RewindError
from rewind_common.jobs.control import JobControl
from rewind_common.jobs.model import (
    Job,
    JobError,
    JobStatus,
    JobWarning,
    Progress,
    utcnow,
)
from rewind_common.jobs.reporter import StatusReporter
from rewind_common.logging import redact
from rewind_common.storage.jobs import JobRepository

_T = TypeVar("_T")
log = logging.getLogger(__name__)

MAX_TRANSIENT_ATTEMPTS = 30


@dataclass(frozen=True)
class Outcome:
    """How a job ended, as its handler decided."""

    status: JobStatus
    result: Mapping[str, Any] = field(default_factory=dict)
    counters: Mapping[str, int] | None = None
    error: JobError | None = None
    progress: Progress | None = None


class StepContext:
    """What a handler's step may use: the job, its checkpoint, its reporter, the clock."""

    def __init__(
        self,
        job: Job,
        payload: Mapping[str, Any],
        state: dict[str, Any],
        reporter: StatusReporter,
        control: JobControl,
        jobs: JobRepository,
        deadline: float,
    ) -> None:
        self.job = job
        self.payload = payload
        self.state = state
        self.reporter = reporter
        self._control = control
        self._jobs = jobs
        self._deadline = deadline
        self._cancel_checked_at: float | None = None

    def out_of_time(self) -> bool:
        return time.monotonic() >= self._deadline

    async def checkpoint(self) -> None:
        await self._jobs.save_checkpoint(self.job.id, self.state, utcnow())

    async def raise_if_canceled(self, *, unless_checked_within: float = 0.0) -> None:
        """Raise ``JobCanceled`` if a cancel was requested. ``unless_checked_within``:
        skip the look when the last one is that recent (seconds), for work that checks
        between units far shorter than the seconds a cancel may take (a snapshot's
        pages); work that must not go on after a cancel (a recovery's writes) looks
        every time."""
        now = time.monotonic()
        last = self._cancel_checked_at
        if unless_checked_within > 0 and last is not None and now - last < unless_checked_within:
            return
        self._cancel_checked_at = now
        if await self._control.cancel_requested(self.job.id):
            raise JobCanceled(f"job {self.job.id} was canceled")

    async def status(self, status: JobStatus, progress: Progress | None = None) -> None:
        if status != self.reporter.status or progress is not None:
            await self.reporter.send(status, progress=progress)

    async def progress(self, done: int, total: int) -> None:
        await self.reporter.send(progress=Progress(done=done, total=total))

    async def warn(self, warnings: list[JobWarning]) -> None:
        if warnings:
            await self.reporter.send(warnings=warnings)


class JobHandler(Protocol):
    async def step(self, context: StepContext) -> Outcome | None:
        """Do work until done (return the outcome) or out of time (return None after
        saving the checkpoint)."""

    async def canceled(self, context: StepContext) -> Mapping[str, Any]:
        """Called when the job ends canceled; returns what to record (work already
        applied stays applied and is listed)."""


@dataclass(frozen=True)
class StepDecision:
    """What the task wrapper must do after a step: nothing, or enqueue the payload again
    (a continuation now, or a retry after ``delay`` seconds)."""

    enqueue_again: bool = False
    delay: float = 0.0
    attempt: int = 0


DONE = StepDecision()


class JobRunner:
    def __init__(
        self,
        jobs: JobRepository,
        control: JobControl,
        publish: Any,
        *,
        step_seconds: float,
        lease_seconds: float = 15.0,
        redelivery_seconds: float = 300.0,
    ) -> None:
        self._jobs = jobs
        self._control = control
        self._publish = publish
        self._step_seconds = step_seconds
        self._lease_ms = int(lease_seconds * 1000)
        # a delivery waiting for a lease must be sent again well before a broker would
        # deliver it twice
        self._max_wait = max(redelivery_seconds / 2, 1.0)

    async def run_step(
        self, job_id: str, payload: Mapping[str, Any], handler: JobHandler, *, attempt: int = 0
    ) -> StepDecision:
        try:
            job = await self._jobs.find(job_id)
        except DependencyUnavailable as exc:
            return self._retry(job_id, attempt, exc)
        if job is None:
            log.warning("dropping a task for unknown job %s", job_id)
            return DONE
        if job.status.terminal:
            return DONE
        try:
            if not await self._control.claim_start(job_id):
                # canceled by the API before any worker started it; its Canceled status
                # is on its way to the recorder
                log.info("job %s was canceled before it started", job_id)
                return DONE
            token = await self._control.acquire_lease(job_id, self._lease_ms)
            if token is None:
                remaining_ms = await self._control.lease_remaining_ms(job_id)
        except DependencyUnavailable as exc:
            return self._retry(job_id, attempt, exc)
        if token is None:
            wait = min(max(remaining_ms, 0) / 1000 + 0.5, self._max_wait)
            log.info("job %s is leased by another delivery; trying again in %.1fs", job_id, wait)
            return StepDecision(enqueue_again=True, delay=wait, attempt=attempt)
        reporter = StatusReporter(job.id, job.tenant_id, self._control, self._publish, job.status)
        try:
            async with self._lease_kept(job_id, token):
                return await self._step(job, payload, handler, reporter, attempt)
        finally:
            with contextlib.suppress(DependencyUnavailable):
                await self._control.release_lease(job_id, token)

    async def _step(
        self,
        job: Job,
        payload: Mapping[str, Any],
        handler: JobHandler,
        reporter: StatusReporter,
        attempt: int,
    ) -> StepDecision:
        context: StepContext | None = None
        try:
            state = await self._jobs.load_checkpoint(job.id)
            context = StepContext(
                job,
                payload,
                state,
                reporter,
                self._control,
                self._jobs,
                time.monotonic() + self._step_seconds,
            )
            if job.cancel_requested:
                raise JobCanceled(f"job {job.id} was canceled")
            await context.raise_if_canceled()
            outcome = await _unwrapped(handler.step(context))
            if outcome is None:
                await context.checkpoint()
                return StepDecision(enqueue_again=True)
            await reporter.send(
                outcome.status,
                progress=outcome.progress,
                counters=outcome.counters,
                error=outcome.error,
                result=outcome.result,
            )
            return DONE
        except JobCanceled:
            assert context is not None
            result = await _unwrapped(handler.canceled(context))
            await reporter.send(JobStatus.CANCELED, result=result)
            return DONE
        except DependencyUnavailable as exc:
            if attempt >= MAX_TRANSIENT_ATTEMPTS:
                with contextlib.suppress(DependencyUnavailable):
                    await self._fail(reporter, JobError(code=exc.code, message=exc.message))
                    return DONE
            return self._retry(job.id, attempt, exc)
        except RewindError as exc:
            log.warning("job %s failed: %s", job.id, exc.message)
            await self._fail(reporter, JobError(code=exc.code, message=exc.message))
            return DONE
        except Exception as exc:
            log.exception("job %s failed unexpectedly", job.id)
            await self._fail(
                reporter, JobError(code="internalError", message=f"{type(exc).__name__}: {exc}")
            )
            return DONE

    async def _fail(self, reporter: StatusReporter, error: JobError) -> None:
        # A job's error is stored and served by the API: an exception that quoted a
        # connection string or a token must not carry it there.
        error = error.model_copy(update={"message": redact(error.message)})
        try:
            await reporter.send(JobStatus.FAILED, error=error)
        except DependencyUnavailable:
            log.exception("could not report the failure of job %s", reporter.job_id)
            raise

    @staticmethod
    def _retry(job_id: str, attempt: int, exc: DependencyUnavailable) -> StepDecision:
        """Try the step again later; the checkpoint it resumes from is intact."""
        delay = min(2.0 ** min(attempt, 5), 30.0)
        log.warning("job %s: %s; retrying in %.0fs", job_id, exc.message, delay)
        return StepDecision(enqueue_again=True, delay=delay, attempt=attempt + 1)

    @contextlib.asynccontextmanager
    async def _lease_kept(self, job_id: str, token: str) -> AsyncIterator[None]:
        async def renew() -> None:
            while True:
                await asyncio.sleep(self._lease_ms / 5000)
                with contextlib.suppress(DependencyUnavailable):
                    await self._control.renew_lease(job_id, token, self._lease_ms)

        task = asyncio.create_task(renew())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _unwrapped(awaitable: Awaitable[_T]) -> _T:
    """Await a handler call, answering for a task group's errors with its most telling one.

    Handlers read concurrently in task groups, which wrap whatever their tasks raise in
    an ExceptionGroup; the runner decides by kind (canceled, transient, known error), so
    the group is reduced to the error that decides: a cancel first, then a known Rewind
    error that is not transient, then a transient one.
    """
    try:
        return await awaitable
    except BaseExceptionGroup as group:
        raise _deciding_error(group) from group


def _deciding_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    leaves = list(_leaves(group))
    for leaf in leaves:
        if isinstance(leaf, JobCanceled):
            return leaf
    for leaf in leaves:
        if isinstance(leaf, RewindError) and not isinstance(leaf, DependencyUnavailable):
            return leaf
    if leaves and all(isinstance(leaf, DependencyUnavailable) for leaf in leaves):
        return leaves[0]
    return group


def _leaves(error: BaseException) -> Iterator[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error
