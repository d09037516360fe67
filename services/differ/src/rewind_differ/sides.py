"""The two sides of a comparison as streams sorted by object id, and their merge-join.

An item carries its fingerprint (version hash, deleted flag, link fingerprints), so the
merge tells equal objects apart without reading a body:

- a snapshot side streams manifest entries (``ManifestChains.iterate_type``: the chain's
  segments merged, a chunk at a time), or reads the entries of listed ids;
- the live side is what the load phase staged, read one bucket of ids at a time and
  joined with the backup's items of the same ids (``staged_pairs``).

Every stream starts after a given id, which is how a comparison resumes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass

from rewind_common.aio import stop_task
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
        async for entry in store.manifests.iterate_type(chain, type_name, after=after):
            yield Item(entry.object_id, entry_fingerprint(entry), entry=entry)
        return
    pending = [object_id for object_id in ids if after is None or object_id > after]
    for start in range(0, len(pending), ID_CHUNK):
        chunk = pending[start : start + ID_CHUNK]
        found = await store.manifests.get_entries(chain, type_name, chunk)
        for object_id in chunk:
            hit = found.get(object_id)
            if hit is not None:
                yield Item(object_id, entry_fingerprint(hit), entry=hit)


Pair = tuple[str, Item | None, Item | None]


async def staged_pairs(
    backup: AsyncIterator[Item],
    staging: ReportStaging,
    report_id: str,
    type_name: str,
    *,
    after: str | None,
    width: int = 1,
) -> AsyncGenerator[Pair, None]:
    """The backup's items merge-joined with the live objects a report staged for a
    type, after ``after``, a bucket at a time (buckets of ``width`` id characters sort
    like the ids in them). Each bucket is read knowing the backup's fingerprints of its
    ids, so what the live side shares with the backup is not held; the next bucket is
    read while the current one is compared."""
    buckets = [
        bucket
        for bucket in await staging.buckets(report_id, type_name)
        if after is None or bucket >= after[:width]
    ]
    head = await anext(backup, None)

    async def taken(upper: str | None) -> list[Item]:
        """The backup's items before ``upper`` (every one left when None)."""
        nonlocal head
        part: list[Item] = []
        while head is not None and (upper is None or head.object_id < upper):
            part.append(head)
            head = await anext(backup, None)
        return part

    in_flight: list[asyncio.Future[list[StagedObject]]] = []

    async def started(index: int) -> tuple[list[Item], asyncio.Future[list[StagedObject]]]:
        upper = buckets[index + 1] if index + 1 < len(buckets) else None
        part = await taken(upper)
        known = {item.object_id: item.fingerprint for item in part}
        read = asyncio.ensure_future(staging.bucket(report_id, type_name, buckets[index], known))
        in_flight.append(read)
        return part, read

    try:
        following = await started(0) if buckets else None
        for index in range(len(buckets)):
            assert following is not None
            part, read = following
            following = await started(index + 1) if index + 1 < len(buckets) else None
            found = await read
            in_flight.remove(read)
            live = [
                Item(staged.object_id, staged.fingerprint, staged=staged)
                for staged in found
                if after is None or staged.object_id > after
            ]
            del found
            async for pair in merged(_each(part), _each(live)):
                yield pair
        for item in await taken(None):
            yield item.object_id, item, None
    finally:
        for read in in_flight:
            await stop_task(read)


async def _each(items: list[Item]) -> AsyncIterator[Item]:
    for item in items:
        yield item


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
