"""The two sides of a comparison as streams sorted by object id, and their merge-join.

An item carries its fingerprint (version hash, deleted flag, link fingerprints), so the
merge tells equal objects apart without reading a body:

- a snapshot side streams manifest entries (``SnapshotStore.iterate_type``: the chain's
  segments merged, a chunk at a time), or reads the entries of listed ids;
- the live side streams what the load phase staged, one bucket of ids at a time.

Every stream starts after a given id, which is how a comparison resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass

from rewind_common.storage.manifest import ManifestEntry, Segment
from rewind_common.storage.report_staging import (
    Fingerprint,
    ReportStaging,
    StagedObject,
    entry_fingerprint,
)
from rewind_common.storage.snapshots import SnapshotStore

#: Ids of a scoped type looked up in the manifest at a time.
ID_CHUNK = 500


@dataclass(frozen=True)
class Item:
    object_id: str
    fingerprint: Fingerprint
    entry: ManifestEntry | None = None
    staged: StagedObject | None = None


async def manifest_items(
    store: SnapshotStore,
    chain: list[Segment],
    type_name: str,
    *,
    ids: Sequence[str] | None,
    after: str | None,
) -> AsyncGenerator[Item, None]:
    """A snapshot's objects of a type (all, or those of ``ids``, sorted) after ``after``."""
    if ids is None:
        async for entry in store.iterate_type(chain, type_name, after=after):
            yield Item(entry.object_id, entry_fingerprint(entry), entry=entry)
        return
    pending = [object_id for object_id in ids if after is None or object_id > after]
    for start in range(0, len(pending), ID_CHUNK):
        chunk = pending[start : start + ID_CHUNK]
        found = await store.get_entries(chain, type_name, chunk)
        for object_id in chunk:
            hit = found.get(object_id)
            if hit is not None:
                yield Item(object_id, entry_fingerprint(hit), entry=hit)


async def staged_items(
    staging: ReportStaging,
    report_id: str,
    type_name: str,
    *,
    after: str | None,
    width: int = 1,
) -> AsyncGenerator[Item, None]:
    """The live objects a report staged for a type, after ``after``, a bucket at a time
    (buckets of ``width`` id characters sort like the ids in them); the next bucket is
    read while the current one is compared."""
    buckets = [
        bucket
        for bucket in await staging.buckets(report_id, type_name)
        if after is None or bucket >= after[:width]
    ]
    reads = [asyncio.ensure_future(staging.bucket(report_id, type_name, b)) for b in buckets[:1]]
    try:
        for index in range(len(buckets)):
            if index + 1 < len(buckets):
                following = staging.bucket(report_id, type_name, buckets[index + 1])
                reads.append(asyncio.ensure_future(following))
            found = await reads.pop(0)
            for staged in found:
                if after is None or staged.object_id > after:
                    yield Item(staged.object_id, staged.fingerprint, staged=staged)
    finally:
        for read in reads:
            read.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await read


Pair = tuple[str, Item | None, Item | None]


async def merged(
    backup: AsyncIterator[Item], current: AsyncIterator[Item]
) -> AsyncGenerator[Pair, None]:
    """Both streams joined on object id: every id of either, with its item on each side."""
    left = await anext(backup, None)
    right = await anext(current, None)
    while left is not None or right is not None:
        if right is None or (left is not None and left.object_id < right.object_id):
            assert left is not None
            yield left.object_id, left, None
            left = await anext(backup, None)
        elif left is None or right.object_id < left.object_id:
            yield right.object_id, None, right
            right = await anext(current, None)
        else:
            yield left.object_id, left, right
            left = await anext(backup, None)
            right = await anext(current, None)
