"""Merging a manifest chain's sorted streams: for each object id, the newest segment's
entry wins."""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from rewind_common.storage.manifest import ManifestEntry

T = TypeVar("T")


async def ranked(
    stream: AsyncIterator[ManifestEntry], rank: int
) -> AsyncIterator[tuple[str, int, ManifestEntry]]:
    async for entry in stream:
        yield entry.object_id, rank, entry


async def ranked_rows(
    stream: AsyncIterator[tuple[str, list[Any], bytes | None, str]], rank: int
) -> AsyncIterator[tuple[str, int, tuple[list[Any], bytes | None]]]:
    async for object_id, row, digest, _type in stream:
        yield object_id, rank, (row, digest)


async def merge(
    streams: list[AsyncIterator[tuple[str, int, T]]],
) -> AsyncIterator[tuple[str, int, T]]:
    """Merge sorted async streams of (object id, rank, item) by (object id, rank)."""
    heap: list[tuple[str, int, int, T]] = []
    for index, stream in enumerate(streams):
        first = await anext(stream, None)
        if first is not None:
            heapq.heappush(heap, (first[0], first[1], index, first[2]))
    while heap:
        object_id, rank, index, entry = heapq.heappop(heap)
        yield object_id, rank, entry
        following = await anext(streams[index], None)
        if following is not None:
            heapq.heappush(heap, (following[0], following[1], index, following[2]))
