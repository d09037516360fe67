"""Snapshot data in MongoDB: content-addressed object versions and link sets, manifest
segments, and one record per completed snapshot. All of it is insert-only.

A snapshot record is inserted once, when the snapshot is complete and its Merkle root is
known; until then the entries it wrote belong to no snapshot, so a canceled or failed
snapshot is never presented as a complete one (retention removes the orphans).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, InsertOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from rewind_common.domain.hashing import canonical_json, sha256_hex
from rewind_common.errors import NotFound
from rewind_common.storage.manifest import ManifestEntry, Segment, segments_for_type
from rewind_common.storage.mongo import (
    Collection,
    Document,
    Mongo,
    decode_cursor,
    encode_cursor,
    unavailable,
)

DUPLICATE_KEY = 11000
#: Link sets larger than this are stored in parts, keeping every document far below
#: MongoDB's 16 MB limit.
LINKSET_PART_SIZE = 20_000
_IN_BATCH = 200


@dataclass(frozen=True)
class SnapshotRecord:
    """A completed snapshot (DESIGN section 4 and 7)."""

    id: str
    tenant_id: str
    job_id: str
    mode: str
    #: The job's final status: ``Completed`` or ``Completed with warnings``.
    status: str
    created_at: datetime
    completed_at: datetime
    chain: list[Segment]
    counts: dict[str, int]
    deleted_counts: dict[str, int]
    link_counts: dict[str, int]
    entry_count: int
    new_versions: int
    stored_bytes: int
    manifest_root: str
    merkle_root: str
    previous_root: str | None
    previous_snapshot_id: str | None
    delta_links: dict[str, str] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_document(self) -> Document:
        return {
            "_id": self.id,
            "tenantId": self.tenant_id,
            "jobId": self.job_id,
            "mode": self.mode,
            "status": self.status,
            "createdAt": self.created_at,
            "completedAt": self.completed_at,
            "chain": [segment.to_document() for segment in self.chain],
            "counts": self.counts,
            "deletedCounts": self.deleted_counts,
            "linkCounts": self.link_counts,
            "entryCount": self.entry_count,
            "newVersions": self.new_versions,
            "storedBytes": self.stored_bytes,
            "manifestRoot": self.manifest_root,
            "merkleRoot": self.merkle_root,
            "previousRoot": self.previous_root,
            "previousSnapshotId": self.previous_snapshot_id,
            "deltaLinks": self.delta_links,
            "warnings": self.warnings,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> SnapshotRecord:
        return cls(
            id=document["_id"],
            tenant_id=document["tenantId"],
            job_id=document["jobId"],
            mode=document["mode"],
            status=document.get("status", "Completed"),
            created_at=document["createdAt"],
            completed_at=document["completedAt"],
            chain=[Segment.from_document(s) for s in document["chain"]],
            counts=dict(document.get("counts", {})),
            deleted_counts=dict(document.get("deletedCounts", {})),
            link_counts=dict(document.get("linkCounts", {})),
            entry_count=int(document.get("entryCount", 0)),
            new_versions=int(document.get("newVersions", 0)),
            stored_bytes=int(document.get("storedBytes", 0)),
            manifest_root=document["manifestRoot"],
            merkle_root=document["merkleRoot"],
            previous_root=document.get("previousRoot"),
            previous_snapshot_id=document.get("previousSnapshotId"),
            delta_links=dict(document.get("deltaLinks", {})),
            warnings=list(document.get("warnings", [])),
        )


@dataclass(frozen=True)
class StoredVersion:
    hash: str
    type: str
    body: dict[str, Any]
    canonical: bytes


def linkset_hash(ids: Sequence[str]) -> str:
    return sha256_hex(canonical_json(sorted(ids)))


def _duplicates_only(exc: BulkWriteError) -> bool:
    return all(error.get("code") == DUPLICATE_KEY for error in exc.details.get("writeErrors", []))


async def _insert_ignoring_duplicates(
    collection: AsyncCollection[Document], documents: list[Document]
) -> int:
    """Insert documents whose ``_id`` or unique key may already exist; returns how many
    were new. Insert-only storage makes every write retry-safe this way."""
    if not documents:
        return 0
    try:
        result = await collection.bulk_write([InsertOne(d) for d in documents], ordered=False)
        return int(result.inserted_count)
    except BulkWriteError as exc:
        if not _duplicates_only(exc):
            raise
        return int(exc.details.get("nInserted", 0))


class SnapshotStore:
    def __init__(self, mongo: Mongo) -> None:
        self._snapshots = mongo.collection(Collection.SNAPSHOTS)
        self._manifest = mongo.collection(Collection.MANIFEST)
        self._versions = mongo.collection(Collection.VERSIONS)
        self._linksets = mongo.collection(Collection.LINKSETS)
        self._holds = mongo.collection(Collection.LEGAL_HOLDS)

    # -- writing -------------------------------------------------------------------

    async def put_versions(
        self, snapshot_id: str, type_name: str, bodies: Iterable[tuple[str, bytes]]
    ) -> int:
        """Store object versions (hash, canonical JSON bytes); returns how many were new.

        The first snapshot to store a version is recorded on it, which is how a snapshot
        later counts the versions (and bytes) that it alone added.
        """
        documents: dict[str, Document] = {}
        for digest, canonical in bodies:
            documents[digest] = {
                "_id": digest,
                "type": type_name,
                "body": canonical.decode("utf-8"),
                "size": len(canonical),
                "firstSnapshot": snapshot_id,
            }
        try:
            return await _insert_ignoring_duplicates(self._versions, list(documents.values()))
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def put_linkset(self, ids: Sequence[str]) -> str:
        """Store a set of object ids once, whoever else stored it; returns its hash."""
        ordered = sorted(set(ids))
        digest = linkset_hash(ordered)
        documents: list[Document] = []
        if len(ordered) <= LINKSET_PART_SIZE:
            documents.append({"_id": digest, "count": len(ordered), "ids": ordered})
        else:
            parts = []
            for start in range(0, len(ordered), LINKSET_PART_SIZE):
                chunk = ordered[start : start + LINKSET_PART_SIZE]
                part = f"{digest}:{start // LINKSET_PART_SIZE}"
                parts.append(part)
                documents.append({"_id": part, "count": len(chunk), "ids": chunk})
            documents.append({"_id": digest, "count": len(ordered), "parts": parts})
        try:
            await _insert_ignoring_duplicates(self._linksets, documents)
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return digest

    async def put_entries(self, segment_id: str, entries: Iterable[ManifestEntry]) -> int:
        documents = [entry.to_document(segment_id) for entry in entries]
        try:
            return await _insert_ignoring_duplicates(self._manifest, documents)
        except PyMongoError as exc:
            raise unavailable(exc) from exc

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
        """How many versions, and how many bytes, ``snapshot_id`` was first to store."""
        try:
            cursor = await self._versions.aggregate(
                [
                    {"$match": {"firstSnapshot": snapshot_id}},
                    {"$group": {"_id": None, "n": {"$sum": 1}, "bytes": {"$sum": "$size"}}},
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
        try:
            document = await self._snapshots.find_one({"_id": snapshot_id})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return SnapshotRecord.from_document(document) if document else None

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
        include_tombstones: bool = False,
    ) -> AsyncIterator[ManifestEntry]:
        """A type's entries in a manifest, sorted by object id, streamed: a k-way merge
        of the chain's segments in which the newest segment's entry wins."""
        segments = segments_for_type(chain, type_name)
        streams = [
            self._segment_stream(segment.id, type_name, rank, after)
            for rank, segment in enumerate(segments)
        ]
        previous: str | None = None
        async for object_id, _rank, entry in _merge(streams):
            if object_id == previous:
                continue  # an older segment's entry for an object already emitted
            previous = object_id
            if entry.tombstone and not include_tombstones:
                continue
            yield entry

    async def _segment_stream(
        self, segment_id: str, type_name: str, rank: int, after: str | None
    ) -> AsyncIterator[tuple[str, int, ManifestEntry]]:
        query: Document = {"seg": segment_id, "t": type_name}
        if after is not None:
            query["o"] = {"$gt": after}
        try:
            cursor = self._manifest.find(query).sort("o", ASCENDING).batch_size(2000)
            async for document in cursor:
                entry = ManifestEntry.from_document(document)
                yield entry.object_id, rank, entry
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def get_entries(
        self, chain: list[Segment], type_name: str, object_ids: Iterable[str]
    ) -> dict[str, ManifestEntry]:
        """Entries for specific objects; absent ids (and tombstones) are left out.

        Cost is proportional to the ids asked for, not to the tenant."""
        wanted = sorted(set(object_ids))
        found: dict[str, ManifestEntry] = {}
        segments = segments_for_type(chain, type_name)
        for start in range(0, len(wanted), _IN_BATCH):
            batch = wanted[start : start + _IN_BATCH]
            pending = set(batch)
            for segment in segments:
                if not pending:
                    break
                try:
                    documents = await self._manifest.find(
                        {"seg": segment.id, "t": type_name, "o": {"$in": sorted(pending)}}
                    ).to_list()
                except PyMongoError as exc:
                    raise unavailable(exc) from exc
                for document in documents:
                    entry = ManifestEntry.from_document(document)
                    pending.discard(entry.object_id)
                    if not entry.tombstone:
                        found[entry.object_id] = entry
        return found

    async def get_versions(self, hashes: Iterable[str]) -> dict[str, StoredVersion]:
        wanted = sorted(set(hashes))
        found: dict[str, StoredVersion] = {}
        for start in range(0, len(wanted), _IN_BATCH):
            batch = wanted[start : start + _IN_BATCH]
            try:
                documents = await self._versions.find({"_id": {"$in": batch}}).to_list()
            except PyMongoError as exc:
                raise unavailable(exc) from exc
            for document in documents:
                canonical = str(document["body"]).encode("utf-8")
                found[document["_id"]] = StoredVersion(
                    hash=document["_id"],
                    type=document.get("type", ""),
                    body=json.loads(canonical),
                    canonical=canonical,
                )
        return found

    async def get_linkset(self, digest: str) -> list[str]:
        try:
            document = await self._linksets.find_one({"_id": digest})
            if document is None:
                raise NotFound(f"link set {digest} is missing from storage")
            if "ids" in document:
                return list(document["ids"])
            ids: list[str] = []
            for part in document.get("parts", []):
                part_document = await self._linksets.find_one({"_id": part})
                if part_document is None:
                    raise NotFound(f"link set part {part} is missing from storage")
                ids.extend(part_document["ids"])
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return ids

    # -- legal hold ------------------------------------------------------------------

    async def holds(self, snapshot_ids: Iterable[str]) -> set[str]:
        try:
            documents = await self._holds.find({"_id": {"$in": list(snapshot_ids)}}).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return {d["_id"] for d in documents}

    async def set_hold(self, snapshot_id: str, *, by: str, at: datetime, reason: str) -> None:
        try:
            await self._holds.replace_one(
                {"_id": snapshot_id},
                {"_id": snapshot_id, "by": by, "at": at, "reason": reason},
                upsert=True,
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def clear_hold(self, snapshot_id: str) -> None:
        try:
            await self._holds.delete_one({"_id": snapshot_id})
        except PyMongoError as exc:
            raise unavailable(exc) from exc


async def _merge(
    streams: list[AsyncIterator[tuple[str, int, ManifestEntry]]],
) -> AsyncIterator[tuple[str, int, ManifestEntry]]:
    """Merge sorted async streams of (object id, rank, entry) by (object id, rank)."""
    heap: list[tuple[str, int, int, ManifestEntry]] = []
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
