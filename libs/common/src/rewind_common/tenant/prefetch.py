"""Reading the next pages from Graph while the current one is processed (snapshots
store it, difference reports stage it), and reading several listings at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import TypeVar

T = TypeVar("T")

_END = object()


async def prefetched(source: AsyncIterator[T], depth: int = 1) -> AsyncGenerator[T, None]:
    """``source``'s items, fetching up to ``depth`` ahead of the consumer: Graph works
    on the next page while this process works on the current one."""
    async with contextlib.aclosing(interleaved({"": source}, depth)) as ahead:
        async for _, item in ahead:
            yield item


async def interleaved(
    streams: Mapping[str, AsyncIterator[T]], concurrency: int
) -> AsyncGenerator[tuple[str, T], None]:
    """The items of several streams as they arrive, each with its stream's key: at most
    ``concurrency`` streams are read at a time, each in its own order and at most one
    item ahead of the consumer. A stream's failure is raised to the consumer; a consumer
    that stops early stops every stream."""
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=concurrency)
    slots = asyncio.Semaphore(concurrency)

    async def pump(key: str, stream: AsyncIterator[T]) -> None:
        try:
            async with slots:
                async for item in stream:
                    await queue.put((key, item))
        except Exception as exc:  # handed to the consumer, raised there
            await queue.put(_Failure(exc))
            return
        await queue.put(_END)

    tasks = [asyncio.create_task(pump(key, stream)) for key, stream in streams.items()]
    running = len(tasks)
    try:
        while running:
            item = await queue.get()
            if item is _END:
                running -= 1
                continue
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        await _stop_pumps(tasks, queue)
        for stream in streams.values():
            close = getattr(stream, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()


async def _stop_pumps(tasks: list[asyncio.Task[None]], queue: asyncio.Queue[object]) -> None:
    """Stop the pumps of a consumer that has left. Their items are dropped meanwhile, so
    a pump that ran on after its cancellation (a stream that held it back) cannot wait
    forever on the full queue; it is canceled again until it ends."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        while not queue.empty():
            queue.get_nowait()
        _, pending = await asyncio.wait(pending, timeout=0.05)


class _Failure:
    def __init__(self, error: Exception) -> None:
        self.error = error
