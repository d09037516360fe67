"""Merging a manifest chain's sorted streams: for each object id, the newest segment's
entry wins."""

from __future__ import annotations

import bisect
import heapq
from collections.abc import AsyncIterator, Mapping, Sequence
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


Row = list[Any]


def overlay(
    rows: Sequence[Row],
    digests: Sequence[bytes | None],
    overrides: Mapping[str, tuple[Row, bytes | None]],
    override_ids: Sequence[str],
) -> tuple[list[Row], list[bytes | None]]:
    """A block of an older segment's sorted rows (and their Merkle leaves) with a newer
    segment's rows laid over it: ``override_ids`` (sorted) replace the rows of the same
    id or go in at their place. Tombstones (rows without a version) are left out."""
    merged, leaves = list(rows), list(digests)
    if override_ids:
        keys = [row[0] for row in merged]
        for object_id in override_ids:
            position = bisect.bisect_left(keys, object_id)
            row, digest = overrides[object_id]
            if position < len(keys) and keys[position] == object_id:
                merged[position], leaves[position] = row, digest
            else:
                keys.insert(position, object_id)
                merged.insert(position, row)
                leaves.insert(position, digest)
    if any(row[1] is None for row in merged):
        kept = [index for index, row in enumerate(merged) if row[1] is not None]
        merged, leaves = [merged[i] for i in kept], [leaves[i] for i in kept]
    return merged, leaves
