"""Snapshot data in MongoDB: content-addressed object versions and link sets (in packs,
``storage.packs``), manifest segments (in sorted chunks, ``storage.chunks``, read through
a snapshot's chain of them by ``storage.chains``), the staging of snapshots being taken
(``storage.staging``), and one record per completed snapshot. All of it is insert-only;
only retention deletes (``storage.cleanup``).

A snapshot record is inserted once, when the snapshot is complete and its Merkle root is
known; until then the entries it wrote belong to no snapshot, so a canceled or failed
snapshot is never presented as a complete one (retention removes the orphans).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError, PyMongoError

from rewind_common.domain.retention import SnapshotAge
from rewind_common.errors import NotFound
from rewind_common.storage.chains import ManifestChains
from rewind_common.storage.chunk_cache import ChunkCache
from rewind_common.storage.chunks import DEFAULT_CACHE_BYTES, ChunkStore
from rewind_common.storage.inserts import insert_ignoring_duplicates
from rewind_common.storage.manifest import ManifestEntry
from rewind_common.storage.memo import ExpiringMemo
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

__all__ = [
    "LINKSET_PART_SIZE",
    "LegalHold",
    "SnapshotRecord",
    "SnapshotStore",
    "StoredVersion",
    "linkset_hash",
]


@dataclass(frozen=True)
class LegalHold:
    """Who placed a snapshot's legal hold, when, and why."""

    snapshot_id: str
    reason: str
    placed_by: str
    placed_at: datetime


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
        chunk_cache: ChunkCache | None = None,
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
            mongo.collection(Collection.MANIFEST),
            cache_bytes=chunk_cache_bytes,
            cache=chunk_cache,
        )
        self.staging = StagingStore(mongo.db[STAGING_COLLECTION])
        self.manifests = ManifestChains(self.chunks, self.packs)

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
            documents = await self._holds.find(
                {"_id": {"$in": list(snapshot_ids)}}, {"_id": 1}
            ).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return {d["_id"] for d in documents}

    async def hold_details(self, snapshot_ids: Iterable[str]) -> dict[str, LegalHold]:
        """The legal holds on ``snapshot_ids``, by snapshot id (those not held are absent)."""
        try:
            documents = await self._holds.find({"_id": {"$in": list(snapshot_ids)}}).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return {
            d["_id"]: LegalHold(
                snapshot_id=d["_id"], reason=d["reason"], placed_by=d["by"], placed_at=d["at"]
            )
            for d in documents
        }

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
