"""Reading a snapshot's manifest: the fold of its chain of segments, each a sorted run of
chunks (``storage.chunks``), in which an object's entry in the newest segment holding it
wins.

A full snapshot's chain is its own segment; an incremental one's is its predecessor's
chain with its own segment (what changed) on top. Reads either stream a type's entries
in id order (a k-way merge, or the newer segments laid over the oldest one when they
are few) or look up specific ids, at a cost proportional to the ids asked for.
"""

from __future__ import annotations

import bisect
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from typing import Any

from rewind_common.storage.chunks import ChunkStore
from rewind_common.storage.leaf_blocks import LeafBlock, chunk_block, lay_over
from rewind_common.storage.manifest import (
    CHUNK_ENTRIES,
    ManifestEntry,
    RowCounts,
    Segment,
    segments_for_type,
)
from rewind_common.storage.merge import merge, overlay, ranked, ranked_rows
from rewind_common.storage.packs import PackStore

#: Entries of a chain's newer segments laid over its oldest one in memory by
#: ``iterate_row_blocks``.
_OVERRIDES_IN_MEMORY = 200_000


class ManifestChains:
    """Manifests read through a chain of segments. Entries found by id are remembered in
    ``packs``, so a later read of their versions or link sets by hash needs no scan."""

    def __init__(self, chunks: ChunkStore, packs: PackStore) -> None:
        self.chunks = chunks
        self.packs = packs

    async def iterate_type(
        self,
        chain: list[Segment],
        type_name: str,
        *,
        after: str | None = None,
        before: str | None = None,
        include_tombstones: bool = False,
    ) -> AsyncGenerator[ManifestEntry, None]:
        """A type's entries in a manifest, sorted by object id, streamed: a k-way merge
        of the chain's segments in which the newest segment's entry wins. A stream
        keeps nothing of what it read (entries name their own packs): its memory does
        not grow with the manifest."""
        segments = await self._segments(chain, type_name)
        streams = [
            ranked(self.chunks.stream(segment.id, type_name, after=after, before=before), rank)
            for rank, segment in enumerate(segments)
        ]
        previous: str | None = None
        async for object_id, _rank, entry in merge(streams):
            if object_id == previous:
                continue  # an older segment's entry for an object already emitted
            previous = object_id
            if entry.tombstone and not include_tombstones:
                continue
            yield entry

    async def iterate_row_blocks(
        self,
        chain: list[Segment],
        type_name: str,
        *,
        after: str | None = None,
    ) -> AsyncGenerator[tuple[list[list[Any]], list[bytes | None]], None]:
        """``iterate_type`` without building entries, a block at a time: the live
        entries' stored rows and their Merkle leaves (None where a chunk has none), for
        passes over whole manifests.

        The newer segments of a chain are small (what changed), its oldest one holds
        the type whole: when the newer ones are few enough they are read first and laid
        over the oldest one's chunks, which costs far less per entry than a merge of
        every stream."""
        segments = await self._segments(chain, type_name)
        overrides = await self._overrides(segments, type_name, after)
        if overrides is None:
            async for block in self._merged_row_blocks(segments, type_name, after):
                yield block
            return
        pending = sorted(overrides)
        index = 0
        oldest = segments[-1]
        async for rows, digests, _ in self.chunks.row_blocks(oldest.id, type_name, after=after):
            # what the newer segments hold up to this chunk's last id goes into it
            end = bisect.bisect_right(pending, rows[-1][0], lo=index)
            block = overlay(rows, digests, overrides, pending[index:end])
            index = end
            if block[0]:
                yield block
        if index < len(pending):
            block = overlay([], [], overrides, pending[index:])
            if block[0]:
                yield block

    async def iterate_leaf_blocks(
        self,
        chain: list[Segment],
        type_name: str,
        *,
        after: str | None = None,
    ) -> AsyncGenerator[LeafBlock, None]:
        """``iterate_row_blocks`` for a pass that needs only ids, Merkle leaves and
        counts: unchanged chunks are not decoded (see ``storage.leaf_blocks``)."""
        segments = await self._segments(chain, type_name)
        overrides = await self._overrides(segments, type_name, after)
        if overrides is None:
            async for rows, digests in self._merged_row_blocks(segments, type_name, after):
                yield LeafBlock.of_rows(type_name, rows, digests)
            return
        pending = sorted(overrides)
        index = 0
        async for chunk in self.chunks.loaded(segments[-1].id, type_name, after=after):
            block = chunk_block(chunk, after)
            # what the newer segments hold up to this chunk's last id goes into it
            end = bisect.bisect_right(pending, chunk.last, lo=index)
            lay_over(block, chunk, overrides, pending[index:end])
            index = end
            if block.ids:
                yield block
        if index < len(pending):
            block = LeafBlock(type_name, [], bytearray(), RowCounts())
            lay_over(block, None, overrides, pending[index:])
            if block.ids:
                yield block

    async def _overrides(
        self, segments: list[Segment], type_name: str, after: str | None
    ) -> dict[str, tuple[list[Any], bytes | None]] | None:
        """The rows (and leaves) of a type's newer segments, newest winning, laid over
        its oldest one; None when they are too many to hold."""
        newer = segments[:-1]
        counts = [await self.chunks.count(segment.id, type_name) for segment in newer]
        if sum(counts) > _OVERRIDES_IN_MEMORY:
            return None
        overrides: dict[str, tuple[list[Any], bytes | None]] = {}
        for segment in reversed(newer):  # oldest first: newer segments overwrite
            async for rows, digests, _ in self.chunks.row_blocks(
                segment.id, type_name, after=after
            ):
                for row, digest in zip(rows, digests, strict=True):
                    overrides[row[0]] = (row, digest)
        return overrides

    async def _merged_row_blocks(
        self, segments: list[Segment], type_name: str, after: str | None
    ) -> AsyncGenerator[tuple[list[list[Any]], list[bytes | None]], None]:
        streams = [
            ranked_rows(self.chunks.rows(segment.id, type_name, after=after), rank)
            for rank, segment in enumerate(segments)
        ]
        previous: str | None = None
        rows: list[list[Any]] = []
        digests: list[bytes | None] = []
        async for object_id, _rank, (row, digest) in merge(streams):
            if object_id == previous:
                continue
            previous = object_id
            if row[1] is None:
                continue  # a tombstone
            rows.append(row)
            digests.append(digest)
            if len(rows) >= CHUNK_ENTRIES:
                yield rows, digests
                rows, digests = [], []
        if rows:
            yield rows, digests

    async def get_entries(
        self,
        chain: list[Segment],
        type_name: str,
        object_ids: Iterable[str],
        *,
        include_tombstones: bool = False,
        remember: bool = True,
    ) -> dict[str, ManifestEntry]:
        """Entries for specific objects; absent ids (and tombstones) are left out.
        ``remember``: keep where their versions and link sets are (see ``_remember``),
        for a caller that will read them.

        Cost is proportional to the ids asked for, not to the tenant."""
        pending = set(object_ids)
        found: dict[str, ManifestEntry] = {}
        for segment in await self._segments(chain, type_name):
            if not pending:
                break
            for object_id, entry in (
                await self.chunks.lookup(segment.id, type_name, pending)
            ).items():
                pending.discard(object_id)
                if include_tombstones or not entry.tombstone:
                    found[object_id] = entry
                    if remember:
                        self._remember(entry)
        return found

    async def warm(self, chain: list[Segment], type_name: str, object_ids: Sequence[str]) -> None:
        """Start fetching what ``get_entries`` of these ids will read; returns at once
        (see ``ChunkStore.warm``)."""
        for segment in await self._segments(chain, type_name):
            await self.chunks.warm(segment.id, type_name, object_ids)

    async def fetches_for(
        self, chain: list[Segment], type_name: str, object_ids: Sequence[str]
    ) -> int:
        """At most how many manifest chunks ``get_entries`` of these ids would fetch from
        the server (what the chunk cache does not hold)."""
        total = 0
        for segment in await self._segments(chain, type_name):
            total += await self.chunks.fetches_for(segment.id, type_name, object_ids)
        return total

    async def earlier_packs(
        self, chain: list[Segment], type_name: str, wanted: Mapping[str, set[str]]
    ) -> dict[str, str]:
        """Where the chain already stores content that objects are about to store again:
        for each object id, the hashes (versions, link sets) wanted, found in any of its
        entries in any segment of the chain, newest to oldest, and the pack each is in.

        An object that changes and changes back (an attribute overwritten, then
        recovered; a member removed, then added again) finds the version it had in an
        older segment, so it is not stored twice. Costs a lookup of the ids in each
        segment of the chain."""
        pending = {object_id: set(hashes) for object_id, hashes in wanted.items() if hashes}
        found: dict[str, str] = {}
        await self._prime_headers(chain)
        for segment in reversed(chain):  # a type read whole each time is in every one
            if not pending:
                break
            entries = await self.chunks.lookup(segment.id, type_name, pending)
            for object_id, entry in entries.items():
                hashes = pending[object_id]
                if entry.version in hashes and entry.pack:
                    found[entry.version] = entry.pack
                    hashes.discard(entry.version)
                for name, digest in entry.links.items():
                    if digest in hashes and entry.link_packs.get(name):
                        found[digest] = entry.link_packs[name]
                        hashes.discard(digest)
                if not hashes:
                    del pending[object_id]
        return found

    async def _segments(self, chain: list[Segment], type_name: str) -> list[Segment]:
        """``segments_for_type``, with the headers of the chain's chunks at hand."""
        segments = segments_for_type(chain, type_name)
        if len(segments) > 1:
            await self._prime_headers(chain)
        return segments

    async def _prime_headers(self, chain: list[Segment]) -> None:
        """The chunk headers of every segment of a chain, read a segment at a time; a
        chain of one asks per type as it goes (one query either way)."""
        if len(chain) > 1:
            await self.chunks.prime_headers(segment.id for segment in chain)

    def _remember(self, entry: ManifestEntry) -> None:
        """Callers that later ask for a version or link set by hash alone (an entry's
        ``version``, ``links``) find it without a scan."""
        if entry.version is not None:
            self.packs.remember(entry.version, entry.pack)
        for name, digest in entry.links.items():
            if digest is not None and name in entry.link_packs:
                self.packs.remember(digest, entry.link_packs[name])
