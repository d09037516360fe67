"""Job steps against real Redis and MongoDB: continuation, resume, cancel, failure."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
import redis.asyncio as aioredis

from rewind_common.errors import DependencyUnavailable, InvalidRequest
from rewind_common.jobs.control import JobControl
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import Job, JobKind, JobStatus, JobWarning
from rewind_common.jobs.runner import JobRunner, Outcome, StepContext
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo

TENANT = "22222222-2222-2222-2222-222222222222"


class Recorder:
    """Applies published status messages straight to the job store, like the recorder."""

    def __init__(self) -> None:
        self.messages: list[StatusMessage] = []

    def __call__(self, task_name: str, payload: dict[str, Any]) -> None:
        self.messages.append(StatusMessage.model_validate(payload))

    def statuses(self) -> list[JobStatus]:
        out: list[JobStatus] = []
        for message in self.messages:
            if not out or out[-1] != message.status:
                out.append(message.status)
        return out


class CountingHandler:
    """Counts to ``total`` one unit per call, checkpointing after each unit."""

    def __init__(self, total: int, units_per_step: int, fail_with: Exception | None = None):
        self.total = total
        self.units_per_step = units_per_step
        self.fail_with = fail_with
        self.applied: list[int] = []

    async def step(self, context: StepContext) -> Outcome | None:
        if self.fail_with:
            raise self.fail_with
        await context.status(JobStatus.IN_PROGRESS)
        done = int(context.state.get("done", 0))
        for _ in range(self.units_per_step):
            if done >= self.total:
                break
            await context.raise_if_canceled()
            self.applied.append(done)
            done += 1
            context.state["done"] = done
            await context.checkpoint()
            await context.progress(done, self.total)
        if done < self.total:
            return None
        await context.warn([JobWarning(type="user", object_id="u1", reason="synced")])
        return Outcome(JobStatus.COMPLETED_WITH_WARNINGS, result={"counted": done})

    async def canceled(self, context: StepContext) -> Mapping[str, Any]:
        return {"counted": context.state.get("done", 0)}


@pytest.fixture
async def parts(
    mongo_url: str, mongo_database_name: str, redis_db_url: str
) -> AsyncIterator[tuple[JobRepository, JobControl]]:
    mongo = Mongo(mongo_url, mongo_database_name)
    redis = aioredis.Redis.from_url(redis_db_url)
    try:
        yield JobRepository(mongo), JobControl(redis)
    finally:
        await redis.aclose()
        await mongo.client.drop_database(mongo_database_name)
        await mongo.close()


async def _apply_all(jobs: JobRepository, recorder: Recorder) -> Job:
    job = None
    for message in recorder.messages:
        job = await jobs.apply(message)
    assert job is not None
    return job


async def test_a_long_job_runs_as_resumable_steps(
    parts: tuple[JobRepository, JobControl],
) -> None:
    jobs, control = parts
    await jobs.insert(Job(id="j1", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    recorder = Recorder()
    runner = JobRunner(jobs, control, recorder, step_seconds=60)
    handler = CountingHandler(total=5, units_per_step=2)

    decisions = []
    for _ in range(3):
        decision = await runner.run_step("j1", {}, handler)
        decisions.append(decision.enqueue_again)
        await _apply_all(jobs, recorder)
    assert decisions == [True, True, False]
    assert handler.applied == [0, 1, 2, 3, 4]
    job = await _apply_all(jobs, recorder)
    assert job.status is JobStatus.COMPLETED_WITH_WARNINGS
    assert job.progress.done == 5
    assert job.result == {"counted": 5}
    assert [w.reason for w in job.warnings] == ["synced"]
    assert recorder.statuses() == [JobStatus.IN_PROGRESS, JobStatus.COMPLETED_WITH_WARNINGS]
    assert [m.seq for m in recorder.messages] == sorted(m.seq for m in recorder.messages)

    # a stray redelivery of a finished job does nothing
    assert not (await runner.run_step("j1", {}, handler)).enqueue_again
    assert handler.applied == [0, 1, 2, 3, 4]


async def test_a_job_canceled_before_its_start_is_never_run(
    parts: tuple[JobRepository, JobControl],
) -> None:
    """The API ended it Canceled (no worker had claimed it): a delivery that arrives
    afterwards, before the recorder applied the Canceled status, does nothing."""
    jobs, control = parts
    await jobs.insert(Job(id="j9", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    await control.request_cancel("j9")
    assert await control.cancel_unstarted("j9")
    recorder = Recorder()
    handler = CountingHandler(total=3, units_per_step=3)

    decision = await JobRunner(jobs, control, recorder, step_seconds=60).run_step("j9", {}, handler)

    assert not decision.enqueue_again
    assert handler.applied == []
    assert recorder.messages == []


async def test_a_started_job_cannot_be_canceled_as_unstarted(
    parts: tuple[JobRepository, JobControl],
) -> None:
    jobs, control = parts
    await jobs.insert(Job(id="j8", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    recorder = Recorder()
    runner = JobRunner(jobs, control, recorder, step_seconds=60)
    handler = CountingHandler(total=4, units_per_step=2)
    assert (await runner.run_step("j8", {}, handler)).enqueue_again

    assert not await control.cancel_unstarted("j8")
    # its next step still runs (and would see a requested cancel between units)
    assert not (await runner.run_step("j8", {}, handler)).enqueue_again
    assert handler.applied == [0, 1, 2, 3]


async def test_cancel_ends_the_job_between_units_and_keeps_what_was_done(
    parts: tuple[JobRepository, JobControl],
) -> None:
    jobs, control = parts
    await jobs.insert(Job(id="j2", tenant_id=TENANT, kind=JobKind.RECOVERY))
    recorder = Recorder()
    runner = JobRunner(jobs, control, recorder, step_seconds=60)
    handler = CountingHandler(total=10, units_per_step=3)
    await runner.run_step("j2", {}, handler)
    await control.request_cancel("j2")
    decision = await runner.run_step("j2", {}, handler)
    job = await _apply_all(jobs, recorder)
    assert not decision.enqueue_again
    assert job.status is JobStatus.CANCELED
    assert job.result == {"counted": 3}
    assert handler.applied == [0, 1, 2]


class CancelLooker:
    """Looks for a cancel, has one requested, then looks again at once and once more
    after ``wait`` seconds, each time with ``within``; records the looks it got past."""

    def __init__(self, control: JobControl, within: float, wait: float) -> None:
        self.control = control
        self.within = within
        self.wait = wait
        self.passed: list[str] = []

    async def step(self, context: StepContext) -> Outcome | None:
        await context.raise_if_canceled(unless_checked_within=self.within)
        self.passed.append("before the cancel")
        await self.control.request_cancel(context.job.id)
        await context.raise_if_canceled(unless_checked_within=self.within)
        self.passed.append("right after it")
        await asyncio.sleep(self.wait)
        await context.raise_if_canceled(unless_checked_within=self.within)
        self.passed.append("later")
        return Outcome(JobStatus.COMPLETED)

    async def canceled(self, context: StepContext) -> Mapping[str, Any]:
        return {"passed": len(self.passed)}


@pytest.mark.parametrize(
    ("within", "passed"),
    [(0.0, ["before the cancel"]), (0.3, ["before the cancel", "right after it"])],
)
async def test_a_cancel_is_seen_at_the_next_look_due(
    parts: tuple[JobRepository, JobControl], within: float, passed: list[str]
) -> None:
    jobs, control = parts
    job_id = f"look-{within}"
    await jobs.insert(Job(id=job_id, tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    recorder = Recorder()
    handler = CancelLooker(control, within=within, wait=within + 0.05)
    await JobRunner(jobs, control, recorder, step_seconds=60).run_step(job_id, {}, handler)
    job = await _apply_all(jobs, recorder)
    assert job.status is JobStatus.CANCELED
    assert handler.passed == passed


async def test_a_held_lease_sends_the_delivery_again_once_the_lease_could_lapse(
    parts: tuple[JobRepository, JobControl],
) -> None:
    # The lease may belong to a worker killed with SIGKILL: dropping this delivery could
    # leave the job in progress forever, so it is sent again instead.
    jobs, control = parts
    await jobs.insert(Job(id="j3", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    assert await control.acquire_lease("j3", 3_000)
    handler = CountingHandler(total=1, units_per_step=1)
    runner = JobRunner(jobs, control, Recorder(), step_seconds=60, lease_seconds=3)
    decision = await runner.run_step("j3", {}, handler)
    assert decision.enqueue_again
    assert 0.5 < decision.delay <= 3.5
    assert handler.applied == []

    await asyncio.sleep(decision.delay)
    assert not (await runner.run_step("j3", {}, handler)).enqueue_again
    assert handler.applied == [0]


async def test_errors_fail_the_job_with_their_code(
    parts: tuple[JobRepository, JobControl],
) -> None:
    jobs, control = parts
    await jobs.insert(Job(id="j4", tenant_id=TENANT, kind=JobKind.DIFFERENCE_REPORT))
    recorder = Recorder()
    handler = CountingHandler(1, 1, fail_with=InvalidRequest("snapshot s9 does not exist"))
    await JobRunner(jobs, control, recorder, step_seconds=60).run_step("j4", {}, handler)
    job = await _apply_all(jobs, recorder)
    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.code == "invalidRequest"
    assert "s9" in job.error.message


async def test_errors_raised_by_concurrent_reads_are_judged_by_their_kind(
    parts: tuple[JobRepository, JobControl],
) -> None:
    """A task group wraps its tasks' errors; a transient one must still be retried and
    a known one must still name itself, not end as an internal error."""
    jobs, control = parts
    runner = JobRunner(jobs, control, Recorder(), step_seconds=60)
    await jobs.insert(Job(id="j5", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    unavailable = ExceptionGroup(
        "reads", [DependencyUnavailable("Graph answered 503"), DependencyUnavailable("again")]
    )
    decision = await runner.run_step("j5", {}, CountingHandler(1, 1, fail_with=unavailable))
    assert decision.enqueue_again
    assert decision.attempt == 1

    recorder = Recorder()
    await jobs.insert(Job(id="j6", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    mixed = ExceptionGroup(
        "reads",
        [DependencyUnavailable("Graph answered 503"), InvalidRequest("type xyz is unknown")],
    )
    handler = CountingHandler(1, 1, fail_with=mixed)
    await JobRunner(jobs, control, recorder, step_seconds=60).run_step("j6", {}, handler)
    job = await _apply_all(jobs, recorder)
    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert (job.error.code, job.error.message) == ("invalidRequest", "type xyz is unknown")


async def test_a_failed_jobs_error_never_carries_a_credential(
    parts: tuple[JobRepository, JobControl],
) -> None:
    jobs, control = parts
    await jobs.insert(Job(id="j7", tenant_id=TENANT, kind=JobKind.SNAPSHOT))
    recorder = Recorder()
    leak = ConnectionError("cannot reach mongodb://rewind:pa55word@mongo:27017/rewind")
    handler = CountingHandler(1, 1, fail_with=leak)
    await JobRunner(jobs, control, recorder, step_seconds=60).run_step("j7", {}, handler)
    job = await _apply_all(jobs, recorder)
    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.code == "internalError"
    assert "pa55word" not in job.error.message
    assert "mongo:27017" in job.error.message
