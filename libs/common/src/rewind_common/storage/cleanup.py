"""The only deletions of snapshot data, used by the retention job alone: snapshot records
past their retention, then what no remaining snapshot references (segments' chunks,
staging, packs of versions and link sets)."""

from __future__ import annotations

from collections.abc import Iterable

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from rewind_common.storage.mongo import Collection, Document
from rewind_common.storage.mongo import unavailable as _unavailable
from rewind_common.storage.packs import LINKSETS
from rewind_common.storage.snapshots import (
    SEGMENTS_COLLECTION,
    STAGING_COLLECTION,
    SnapshotStore,
)


class SnapshotCleanup:
    def __init__(self, store: SnapshotStore) -> None:
        db = store.mongo.db
        self._snapshots = store.mongo.collection(Collection.SNAPSHOTS)
        self._manifest = store.mongo.collection(Collection.MANIFEST)
        self._packs = store.mongo.collection(Collection.VERSIONS)
        self._linksets = store.mongo.collection(Collection.LINKSETS)
        self._staging = db[STAGING_COLLECTION]
        self._segments = db[SEGMENTS_COLLECTION]

    async def delete_records(self, snapshot_ids: Iterable[str]) -> int:
        return await self._delete(self._snapshots, {"_id": {"$in": list(snapshot_ids)}})

    async def delete_segments(self, segment_ids: Iterable[str]) -> int:
        """A segment's chunks, staging and segment record; returns chunks deleted."""
        ids = list(segment_ids)
        if not ids:
            return 0
        chunks = await self._delete(self._manifest, {"seg": {"$in": ids}})
        await self._delete(self._staging, {"seg": {"$in": ids}})
        await self._delete(self._segments, {"_id": {"$in": ids}})
        return chunks

    async def delete_staging(self, segment_ids: Iterable[str]) -> int:
        ids = list(segment_ids)
        return await self._delete(self._staging, {"seg": {"$in": ids}}) if ids else 0

    async def staged_segments(self) -> set[str]:
        try:
            return {str(value) for value in await self._staging.distinct("seg")}
        except PyMongoError as exc:
            raise _unavailable(exc) from exc

    async def packs_of(self, tenant_id: str) -> list[tuple[str, str]]:
        """(pack id, snapshot that wrote it) of every pack of a tenant."""
        try:
            documents = await self._packs.find(
                {"tenant": tenant_id}, {"_id": 1, "firstSnapshot": 1}
            ).to_list()
            large = await self._linksets.find(
                {"tenant": tenant_id}, {"_id": 1, "firstSnapshot": 1}
            ).to_list()
        except PyMongoError as exc:
            raise _unavailable(exc) from exc
        packs = [(str(d["_id"]), str(d.get("firstSnapshot"))) for d in documents]
        packs += [(f"{LINKSETS}:{d['_id']}", str(d.get("firstSnapshot"))) for d in large]
        return packs

    async def delete_packs(self, pack_ids: Iterable[str]) -> int:
        packs, large = [], []
        for pack in pack_ids:
            if pack.startswith(f"{LINKSETS}:"):
                large.append(pack.split(":", 1)[1])
            else:
                packs.append(pack)
        deleted = await self._delete(self._packs, {"_id": {"$in": packs}}) if packs else 0
        for digest in large:
            deleted += await self._delete(
                self._linksets, {"$or": [{"_id": digest}, {"_id": {"$regex": f"^{digest}:"}}]}
            )
        return deleted

    @staticmethod
    async def _delete(collection: AsyncCollection[Document], query: Document) -> int:
        try:
            result = await collection.delete_many(query)
        except PyMongoError as exc:
            raise _unavailable(exc) from exc
        return int(result.deleted_count)
