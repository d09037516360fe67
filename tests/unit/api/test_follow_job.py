"""The event-stream logic: current state first, newer updates only, end when terminal."""

from __future__ import annotations

from typing import Any

from rewind_api.events import JobJson, Subscription, follow_job


class FakeSubscription(Subscription):
    """Hands out queued updates; None stands for a quiet period."""

    def __init__(self, updates: list[JobJson | None]) -> None:
        self._updates = list(updates)

    async def next(self, wait_seconds: float) -> JobJson | None:
        assert self._updates, "read past the end: the stream should have ended"
        return self._updates.pop(0)


def job(status: str, seq: int, done: int = 0, **extra: Any) -> JobJson:
    return {"id": "j1", "status": status, "seq": seq, "progress": {"done": done}, **extra}


async def _collect(current: JobJson, updates: list[JobJson | None], stored: JobJson) -> list[Any]:
    async def reload() -> JobJson:
        return stored

    stream = follow_job(current, FakeSubscription(updates), reload, poll_seconds=0)
    return [(j["status"], j["seq"]) async for j in stream]


async def test_older_and_repeated_updates_are_dropped_and_terminal_ends_the_stream() -> None:
    updates: list[JobJson | None] = [
        job("Queued", 0),  # published before we read the current state: older or equal
        job("In progress", 2, 1),
        job("In progress", 2, 1),
        job("Loading data", 1),  # late
        job("Completed", 3, 2),
    ]
    seen = await _collect(job("Loading data", 1), updates, stored=job("Completed", 3))
    assert seen == [("Loading data", 1), ("In progress", 2), ("Completed", 3)]


async def test_a_finished_job_is_sent_once() -> None:
    assert await _collect(job("Failed", 4), [], stored=job("Failed", 4)) == [("Failed", 4)]


async def test_a_quiet_stream_reads_the_job_again() -> None:
    seen = await _collect(job("Queued", 0), [None], stored=job("Canceled", 1))
    assert seen == [("Queued", 0), ("Canceled", 1)]


async def test_same_seq_with_new_warnings_is_sent() -> None:
    updates: list[JobJson | None] = [
        job("In progress", 2, warnings=[{"reason": "x"}]),
        job("Completed with warnings", 3, warnings=[{"reason": "x"}]),
    ]
    seen = await _collect(job("In progress", 2, warnings=[]), updates, stored={})
    assert seen == [("In progress", 2), ("In progress", 2), ("Completed with warnings", 3)]
