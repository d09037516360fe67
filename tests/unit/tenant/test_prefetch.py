"""Reading ahead of the consumer: every page in order, a failure where it is read, and
the source closed when the consumer stops early."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from rewind_common.tenant.prefetch import prefetched


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
