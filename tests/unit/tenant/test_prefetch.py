"""Reading ahead of the consumer: every page in order, a failure where it is read, and
the source closed when the consumer stops early; several streams read at once, each in
its order, no more at a time than allowed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from rewind_common.aio import stop_task
from rewind_common.tenant.prefetch import interleaved, prefetched


async def test_pages_come_in_order_and_a_read_failure_reaches_the_consumer() -> None:
    async def pages() -> AsyncIterator[int]:
        for page in range(5):
            yield page
        raise RuntimeError("Graph said 503")

    seen: list[int] = []

    async def consume() -> None:
        async for page in prefetched(pages(), depth=2):
            seen.append(page)

    with pytest.raises(RuntimeError, match="503"):
        await consume()
    assert seen == [0, 1, 2, 3, 4]


async def test_a_consumer_stopping_early_closes_the_source() -> None:
    closed: list[bool] = []

    async def pages() -> AsyncIterator[int]:
        try:
            for page in range(100):
                yield page
        finally:
            closed.append(True)

    async with contextlib.aclosing(prefetched(pages())) as ahead:
        async for page in ahead:
            if page == 2:
                break
    assert closed == [True]


async def test_interleaved_streams_keep_their_own_order_within_the_bound() -> None:
    reading = 0
    most = 0

    async def stream(key: str, length: int) -> AsyncIterator[str]:
        nonlocal reading, most
        reading += 1
        most = max(most, reading)
        try:
            for number in range(length):
                await asyncio.sleep(0)
                yield f"{key}{number}"
        finally:
            reading -= 1

    lengths = {"a": 3, "b": 0, "c": 5, "d": 1, "e": 4}
    seen: dict[str, list[str]] = {key: [] for key in lengths}
    streams = {key: stream(key, length) for key, length in lengths.items()}
    async for key, item in interleaved(streams, concurrency=2):
        seen[key].append(item)
    assert seen == {key: [f"{key}{n}" for n in range(length)] for key, length in lengths.items()}
    assert most == 2


async def test_a_failing_stream_fails_the_read_and_stops_the_others() -> None:
    stopped: list[str] = []

    async def endless() -> AsyncIterator[int]:
        try:
            while True:
                await asyncio.sleep(0)
                yield 1
        finally:
            stopped.append("endless")

    async def failing() -> AsyncIterator[int]:
        yield 0
        raise RuntimeError("Graph said 400")

    with pytest.raises(RuntimeError, match="400"):
        async for _ in interleaved({"endless": endless(), "failing": failing()}, 2):
            pass
    assert stopped == ["endless"]


async def test_a_consumer_leaving_is_not_held_by_a_stream_that_absorbs_one_cancel() -> None:
    """A page read that swallows the cancel (a request abandoned mid-flight) lets the
    stream hand one more page to a queue nobody reads any more: leaving must not hang."""

    async def stubborn() -> AsyncIterator[int]:
        absorbed = False
        page = 0
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if absorbed:
                    raise
                absorbed = True
            yield page
            page += 1

    async def read_one() -> int:
        async with contextlib.aclosing(interleaved({"users": stubborn()}, 1)) as ahead:
            async for _, page in ahead:
                return page  # while the stream waits for its next page
        raise AssertionError("no page")

    assert await asyncio.wait_for(read_one(), timeout=5) == 0


async def test_stopping_a_task_keeps_the_callers_own_cancellation() -> None:
    release = asyncio.Event()

    async def absorbs_its_cancel() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await release.wait()

    helper = asyncio.create_task(absorbs_its_cancel())
    went_on = False

    async def caller() -> None:
        nonlocal went_on
        await asyncio.sleep(0)
        await stop_task(helper)
        went_on = True

    outer = asyncio.create_task(caller())
    await asyncio.sleep(0.01)  # the caller waits for the helper to end
    outer.cancel()
    await asyncio.sleep(0.01)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert helper.done()
    assert not went_on
