"""Snapshot data in MongoDB: content-addressed object versions and link sets (in packs,
``storage.packs``), manifest segments (in sorted chunks, ``storage.chunks``), the
staging of snapshots being taken (``storage.staging``), and one record per completed
snapshot. All of it is insert-only; only retention deletes (``storage.cleanup``).

A snapshot record is inserted once, when the snapshot is complete and its Merkle root is
known; until then the entries it wrote belong to no snapshot, so a canceled or failed
snapshot is never presented as a complete one (retention removes the orphans).
"""

from __future__ import annotations

import bisect
import json
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError, PyMongoError

from rewind_common.domain.retention import SnapshotAge
from rewind_common.errors import NotFound
from rewind_common.storage.chunks import DEFAULT_CACHE_BYTES, ChunkStore
from rewind_common.storage.inserts import insert_ignoring_duplicates
from rewind_common.storage.leaf_blocks import LeafBlock, chunk_block, lay_over
from rewind_common.storage.manifest import (
    CHUNK_ENTRIES,
    ManifestEntry,
    RowCounts,
    Segment,
    segments_for_type,
)
from rewind_common.storage.memo import ExpiringMemo
from rewind_common.storage.merge import merge, overlay, ranked, ranked_rows
from rewind_common.storage.mongo import (
    Collection,
    Document,
    Mongo,
    decode_cursor,
    encode_cursor,
    unavailable,
)
from rewind_common.storage.packs import (
    LINKSET_PART_SIZE,
    PackBuilder,
    PackStore,
    linkset_digest,
    linkset_parts,
)
from rewind_common.storage.snapshot_record import SnapshotRecord
from rewind_common.storage.staging import StagingStore

#: Collection of the records of snapshots being taken (see ``storage.staging``).
STAGING_COLLECTION = Collection.MANIFEST_STAGING.value
#: One document per sealed segment: its tenant and the packs its entries reference, which
#: is what retention keeps while a snapshot using the segment remains.
SEGMENTS_COLLECTION = Collection.MANIFEST_SEGMENTS.value

#: Entries of a chain's newer segments laid over its oldest one in memory by
#: ``iterate_row_blocks``.
_OVERRIDES_IN_MEMORY = 200_000

__all__ = [
    "LINKSET_PART_SIZE",
    "SnapshotRecord",
    "SnapshotStore",
    "StoredVersion",
    "linkset_hash",
]


@dataclass(frozen=True)
class StoredVersion:
    hash: str
    type: str
    body: dict[str, Any]
    canonical: bytes


def linkset_hash(ids: Sequence[str]) -> str:
    return linkset_digest(sorted(set(ids)))


class SnapshotStore:
    """With ``cache_seconds``, a published snapshot's record (insert-only) and what its
    expiry is computed from (every snapshot's date, the legal holds) are read at most
    once that long: the API browses the same few snapshots over and over. Holds placed or
    lifted through this store show at once, those of another process within
    ``cache_seconds``."""

    def __init__(
        self,
        mongo: Mongo,
        *,
        cache_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        chunk_cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        self.mongo = mongo
        self._records: ExpiringMemo[str, SnapshotRecord] = ExpiringMemo(cache_seconds, clock=clock)
        self._expiry_inputs: ExpiringMemo[str, tuple[list[SnapshotAge], set[str]]] = ExpiringMemo(
            cache_seconds, clock=clock
        )
        self._snapshots = mongo.collection(Collection.SNAPSHOTS)
        self._versions = mongo.collection(Collection.VERSIONS)
        self._linksets = mongo.collection(Collection.LINKSETS)
        self._holds = mongo.collection(Collection.LEGAL_HOLDS)
        self.packs = PackStore(self._versions, self._linksets)
        self.chunks = ChunkStore(
            mongo.collection(Collection.MANIFEST), cache_bytes=chunk_cache_bytes
        )
        self.staging = StagingStore(mongo.db[STAGING_COLLECTION])

    async def ensure_indexes(self) -> None:
        """The indexes staging needs, beyond ``Mongo.ensure_indexes``."""
        try:
            await self.mongo.ensure_indexes()
            await self.mongo.db[STAGING_COLLECTION].create_indexes(
                [
                    IndexModel(
                        [("seg", ASCENDING), ("t", ASCENDING), ("a", ASCENDING), ("b", ASCENDING)]
                    )
                ]
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    # -- writing -------------------------------------------------------------------

    async def put_versions(
        self, snapshot_id: str, type_name: str, bodies: Iterable[tuple[str, bytes]]
    ) -> int:
        """Store object versions (hash, canonical JSON bytes) that no pack holds yet;
        returns how many were new. The snapshot that stores a version first is recorded
        with it, which is how a snapshot counts the versions (and bytes) it added."""
        wanted = dict(bodies)
        known = await self.packs.existing(sorted(wanted))
        builder = PackBuilder(snapshot_id, type_name)
        for digest, canonical in wanted.items():
            if digest not in known:
                builder.add_version(digest, canonical)
        if builder:
            await self.packs.insert(builder)
        return len(builder.versions)

    async def put_linkset(self, ids: Sequence[str]) -> str:
        """Store a set of object ids once, whoever else stored it; returns its hash."""
        ordered = sorted(set(ids))
        digest = linkset_digest(ordered)
        documents: list[Document]
        if len(ordered) <= LINKSET_PART_SIZE:
            documents = [{"_id": digest, "count": len(ordered), "ids": ordered}]
        else:
            documents = linkset_parts(digest, ordered)
        try:
            await insert_ignoring_duplicates(self._linksets, documents)
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return digest

    async def put_entries(self, segment_id: str, entries: Iterable[ManifestEntry]) -> int:
        """Store a segment's entries in one go (every entry of each type it names)."""
        by_type: dict[str, dict[str, ManifestEntry]] = {}
        for entry in entries:
            by_type.setdefault(entry.type, {})[entry.object_id] = entry
        stored = 0
        for type_name, found in by_type.items():
            ordered = [found[object_id] for object_id in sorted(found)]
            stored += await self.chunks.write(segment_id, type_name, ordered)
        return stored

    async def put_segment(
        self, segment_id: str, tenant_id: str, packs: Iterable[str], at: datetime
    ) -> None:
        """Record a sealed segment and the packs its entries reference (insert-once)."""
        document = {"_id": segment_id, "tenant": tenant_id, "packs": sorted(set(packs)), "at": at}
        try:
            await insert_ignoring_duplicates(self.mongo.db[SEGMENTS_COLLECTION], [document])
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def segments_of(self, tenant_id: str) -> dict[str, list[str]]:
        """Every sealed segment of a tenant, with the packs its entries reference."""
        try:
            documents = (
                await self.mongo.db[SEGMENTS_COLLECTION].find({"tenant": tenant_id}).to_list()
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return {str(d["_id"]): list(d.get("packs", [])) for d in documents}

    async def insert_snapshot(self, record: SnapshotRecord) -> bool:
        """Publish a completed snapshot; False if it was already published (a resumed
        job finishing twice publishes once)."""
        try:
            await self._snapshots.insert_one(record.to_document())
        except DuplicateKeyError:
            return False
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return True

    async def new_version_totals(self, snapshot_id: str) -> tuple[int, int]:
        """How many versions ``snapshot_id`` was first to store, and how many bytes of
        versions and link sets it stored."""
        try:
            cursor = await self._versions.aggregate(
                [
                    {"$match": {"firstSnapshot": snapshot_id}},
                    {
                        "$group": {
                            "_id": None,
                            "n": {"$sum": "$nv"},
                            "bytes": {"$sum": {"$add": ["$vb", "$lb"]}},
                        }
                    },
                ]
            )
            rows = await cursor.to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        if not rows:
            return 0, 0
        return int(rows[0]["n"]), int(rows[0]["bytes"])

    # -- reading snapshots ---------------------------------------------------------------

    async def find(self, snapshot_id: str) -> SnapshotRecord | None:
        known = self._records.get(snapshot_id)
        if known is not None:
            return known
        try:
            document = await self._snapshots.find_one({"_id": snapshot_id})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        if not document:
            return None
        record = SnapshotRecord.from_document(document)
        self._records.put(snapshot_id, record)
        return record

    async def get(self, tenant_id: str, snapshot_id: str) -> SnapshotRecord:
        record = await self.find(snapshot_id)
        if record is None or record.tenant_id != tenant_id:
            raise NotFound(f"snapshot {snapshot_id} does not exist in tenant {tenant_id}")
        return record

    async def latest(self, tenant_id: str) -> SnapshotRecord | None:
        try:
            document = await self._snapshots.find_one(
                {"tenantId": tenant_id}, sort=[("_id", DESCENDING)]
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return SnapshotRecord.from_document(document) if document else None

    async def page(
        self, tenant_id: str, *, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[SnapshotRecord], str | None]:
        query: Document = {"tenantId": tenant_id}
        if cursor:
            query["_id"] = {"$lt": str(decode_cursor(cursor).get("id", ""))}
        try:
            documents = (
                await self._snapshots.find(query).sort("_id", DESCENDING).limit(limit + 1).to_list()
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        records = [SnapshotRecord.from_document(d) for d in documents[:limit]]
        following = encode_cursor({"id": records[-1].id}) if len(documents) > limit else None
        return records, following

    async def all_records(self, tenant_id: str | None = None) -> list[SnapshotRecord]:
        query: Document = {} if tenant_id is None else {"tenantId": tenant_id}
        try:
            documents = await self._snapshots.find(query).sort("_id", ASCENDING).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return [SnapshotRecord.from_document(d) for d in documents]

    # -- reading manifests ---------------------------------------------------------------

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
    ) -> dict[str, ManifestEntry]:
        """Entries for specific objects; absent ids (and tombstones) are left out.

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

    async def get_versions(self, hashes: Iterable[str]) -> dict[str, StoredVersion]:
        return await self.versions_at([(digest, None) for digest in hashes])

    async def versions_at(
        self, refs: Iterable[tuple[str, str | None]], type_name: str = ""
    ) -> dict[str, StoredVersion]:
        """Versions by (hash, pack); a pack of None finds the version by its hash."""
        found = await self.packs.versions(refs)
        return {
            digest: StoredVersion(
                hash=digest, type=type_name, body=json.loads(canonical), canonical=canonical
            )
            for digest, canonical in found.items()
        }

    async def get_linkset(self, digest: str) -> list[str]:
        try:
            document = await self._linksets.find_one({"_id": digest})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        if document is None:
            found = await self.packs.linksets([(digest, None)])
            if digest not in found:
                raise NotFound(f"link set {digest} is missing from storage")
            return found[digest]
        if "ids" in document:
            return list(document["ids"])
        ids = (await self.packs.linksets([(digest, "linksets")])).get(digest)
        if ids is None:
            raise NotFound(f"link set {digest} is missing from storage")
        return ids

    async def expiry_inputs(self, tenant_id: str) -> tuple[list[SnapshotAge], set[str]]:
        """Every snapshot of the tenant with its date, and those on legal hold: what
        each one's expiry depends on."""
        known = self._expiry_inputs.get(tenant_id)
        if known is not None:
            return known
        try:
            documents = (
                await self._snapshots.find({"tenantId": tenant_id}, {"createdAt": 1})
                .sort("_id", ASCENDING)
                .to_list()
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        ages = [SnapshotAge(id=d["_id"], created_at=d["createdAt"]) for d in documents]
        inputs = (ages, await self.holds(age.id for age in ages))
        self._expiry_inputs.put(tenant_id, inputs)
        return inputs

    # -- legal hold ------------------------------------------------------------------

    async def holds(self, snapshot_ids: Iterable[str]) -> set[str]:
        try:
            documents = await self._holds.find({"_id": {"$in": list(snapshot_ids)}}).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return {d["_id"] for d in documents}

    async def set_hold(self, snapshot_id: str, *, by: str, at: datetime, reason: str) -> None:
        self._expiry_inputs.forget()
        try:
            await self._holds.replace_one(
                {"_id": snapshot_id},
                {"_id": snapshot_id, "by": by, "at": at, "reason": reason},
                upsert=True,
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def clear_hold(self, snapshot_id: str) -> None:
        self._expiry_inputs.forget()
        try:
            await self._holds.delete_one({"_id": snapshot_id})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
