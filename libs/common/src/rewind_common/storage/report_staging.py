"""The live tenant as a difference report read it, staged until the report is compared.

Graph lists objects in no particular order while a snapshot's manifest is sorted by id,
so a full report cannot compare page by page without holding the tenant in memory.
What is read from Graph is written here instead, a few pages at a time, split into
buckets by the first character of its object ids (as the snapshotter stages its reads),
or the first two for large types; comparing then loads one bucket of one type at a time,
sorted, and merge-joins it with the snapshot's manifest stream. Memory is bounded by a
bucket, a small slice of a type, never by the tenant.

A staged object keeps what comparing needs: its version hash and link targets (whose
fingerprints are compared with the manifest entry first, so an unchanged object costs
no body read), and its canonical body for the objects that do differ. Records of one
object staged from several reads fold into one: the later read wins, except for the
partial link lists of a delta query's first round, which add up, and for the links
read apart from the bodies (owners of applications and service principals, which their
delta does not track), which are added to the object read before them.

Documents are keyed ``{report}|{type}|{revision:09d}|{time written}|{bucket}[|{part}]``
and read back in that order: a write redone after a redelivered step is kept next to
the one it redoes, and wins. Staging belongs to its report alone; the differ removes it
when the report ends, and a TTL index drops whatever a failed report left behind.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from rewind_common.domain.records import LinkValue, ObjectState
from rewind_common.registry import get_type
from rewind_common.storage.canonical import canonical_and_hash
from rewind_common.storage.inserts import insert_ignoring_duplicates
from rewind_common.storage.manifest import ManifestEntry
from rewind_common.storage.mongo import (
    REPORT_STAGING_LIFETIME_SECONDS,
    Collection,
    Document,
    Mongo,
    unavailable,
)
from rewind_common.storage.packs import linkset_digest

REPORT_STAGING_COLLECTION = Collection.REPORT_STAGING.value
#: A failed or abandoned report's staging is removed after this long.
STAGING_LIFETIME_SECONDS = REPORT_STAGING_LIFETIME_SECONDS
_DOCUMENT_BYTES = 4_000_000

#: What two sides of a comparison are compared on before any body is read: version
#: hash, deleted flag, and each link's stored form (a link set's hash, the manager's id).
Fingerprint = tuple[str | None, bool, tuple[tuple[str, str], ...]]


def entry_fingerprint(entry: ManifestEntry) -> Fingerprint:
    refs = tuple(sorted((name, value) for name, value in entry.links.items() if value))
    return entry.version, entry.deleted, refs


def link_refs(type_name: str, links: Mapping[str, LinkValue]) -> dict[str, str]:
    """Links in a manifest entry's form: empty links are left out."""
    object_type = get_type(type_name)
    refs: dict[str, str] = {}
    for name, value in links.items():
        if object_type.link(name).many:
            ids = sorted(set(value)) if isinstance(value, tuple) else []
            if ids:
                refs[name] = linkset_digest(ids)
        elif isinstance(value, str) and value:
            refs[name] = value
    return refs


@dataclass(frozen=True)
class StagedObject:
    """One live object as staged: enough to compare, and to rebuild its state. What it
    shares with the backup (``canonical`` when the version is the backup's, ``links``
    when the whole fingerprint is) is not kept: ``None`` means "as in the backup"."""

    type: str
    object_id: str
    version: str
    deleted: bool
    refs: Mapping[str, str]
    links: Mapping[str, Any] | None
    canonical: str | None

    @property
    def fingerprint(self) -> Fingerprint:
        return self.version, self.deleted, tuple(sorted(self.refs.items()))

    def state(self, backup: ObjectState | None = None) -> ObjectState:
        """The live state; ``backup`` (the backed-up state of the same object) supplies
        what was not kept."""
        if (self.canonical is None or self.links is None) and backup is None:
            raise ValueError(f"{self.type} {self.object_id}: its backup state is needed")
        object_type = get_type(self.type)
        links: dict[str, LinkValue]
        if self.links is None:
            assert backup is not None
            links = dict(backup.links)
        else:
            links = {
                name: tuple(sorted(value or ())) if object_type.link(name).many else value
                for name, value in self.links.items()
            }
        if self.canonical is None:
            assert backup is not None
            body = backup.body
        else:
            body = orjson.loads(self.canonical)
        return ObjectState(
            type=self.type,
            object_id=self.object_id,
            body=body,
            deleted=self.deleted,
            links=links,
        )

    @classmethod
    def from_record(
        cls, type_name: str, record: Mapping[str, Any], backup: Fingerprint | None = None
    ) -> StagedObject:
        links = dict(record.get("l") or {})
        object_type = get_type(type_name)
        values: dict[str, LinkValue] = {
            name: tuple(value or ()) if object_type.link(name).many else value
            for name, value in links.items()
        }
        staged = cls(
            type=type_name,
            object_id=record["o"],
            version=record["v"],
            deleted=bool(record["d"]),
            refs=link_refs(type_name, values),
            links=links,
            canonical=record.get("x"),
        )
        if backup is not None and staged.fingerprint == backup:
            # Unchanged: compared by fingerprint alone, nothing else is ever read.
            return replace(staged, links=None, canonical=None)
        return staged


def staged_record(state: ObjectState, *, partial_links: bool = False) -> dict[str, Any]:
    """A state as staged. With ``partial_links`` (the first round of a delta query,
    where Graph may spread one group's members over several pages), the links are
    additions to whatever else was staged for the object."""
    canonical, digest = canonical_and_hash(dict(state.body))
    links = {
        name: sorted(value) if isinstance(value, tuple) else value
        for name, value in state.links.items()
    }
    record: dict[str, Any] = {
        "o": state.object_id,
        "v": digest,
        "d": state.deleted,
        "l": links,
        "x": canonical.decode("utf-8"),
    }
    if partial_links:
        record["u"] = 1
    return record


def links_record(object_id: str, links: Mapping[str, list[str]]) -> dict[str, Any]:
    """Links of an object whose body another read staged: added to it when folded."""
    return {"o": object_id, "a": 1, "l": {name: sorted(ids) for name, ids in links.items()}}


def _folded(previous: Mapping[str, Any] | None, record: Mapping[str, Any]) -> Mapping[str, Any]:
    """Two records of one object, the later one winning, except that links of partial
    records add up and links read apart are added to the body read before them (links
    alone, of an object that was not there when the bodies were read, are no object)."""
    if record.get("a"):
        if previous is None:
            return record
        if previous.get("d"):
            return previous  # Graph shows no links of deleted objects
        return {**previous, "l": {**(previous.get("l") or {}), **(record.get("l") or {})}}
    if previous is None or not (previous.get("u") and record.get("u")):
        return record
    links = dict(previous.get("l") or {})
    for name, value in (record.get("l") or {}).items():
        before = links.get(name)
        if isinstance(value, list) and isinstance(before, list):
            links[name] = sorted(set(before) | set(value))
        else:
            links[name] = value
    return {**record, "l": links}


class StagingBatch:
    """Records gathered for one write, in the order they were read, kept encoded: one
    JSON array per bucket (and per document's worth of records), a fraction of the
    dictionaries they were."""

    def __init__(self, width: int = 1) -> None:
        self.width = width
        self.buckets: dict[str, list[bytearray]] = defaultdict(list)
        self.records = 0
        #: Records that are objects (not links read apart), and their encoded size.
        self.objects = 0
        self.size = 0

    def add(self, record: Mapping[str, Any]) -> None:
        encoded = orjson.dumps(record)
        parts = self.buckets[record["o"][: self.width]]
        if not parts or len(parts[-1]) + len(encoded) > _DOCUMENT_BYTES:
            parts.append(bytearray(b"["))
        else:
            parts[-1] += b","
        parts[-1] += encoded
        self.records += 1
        self.objects += 0 if record.get("a") else 1
        self.size += len(encoded)

    def __bool__(self) -> bool:
        return self.records > 0


class ReportStaging:
    def __init__(self, mongo: Mongo) -> None:
        self._staging: AsyncCollection[Document] = mongo.db[REPORT_STAGING_COLLECTION]

    async def ensure_indexes(self) -> None:
        try:
            await self._staging.create_indexes(
                [
                    IndexModel([("report", ASCENDING), ("t", ASCENDING), ("b", ASCENDING)]),
                    IndexModel([("at", ASCENDING)], expireAfterSeconds=STAGING_LIFETIME_SECONDS),
                ]
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def write(
        self,
        report_id: str,
        type_name: str,
        revision: int,
        states: Sequence[ObjectState],
        *,
        at: datetime,
        partial_links: bool = False,
        width: int = 1,
    ) -> int:
        """Stage one page of states (revision orders pages: a later one wins), bucketed
        by the first ``width`` characters of their ids."""
        batch = StagingBatch(width)
        for state in states:
            batch.add(staged_record(state, partial_links=partial_links))
        await self.write_batch(report_id, type_name, revision, batch, at=at)
        return len(states)

    async def write_batch(
        self, report_id: str, type_name: str, revision: int, batch: StagingBatch, *, at: datetime
    ) -> None:
        """Stage a batch of records (consumed), several pages of them in one write: the
        local MongoDB-compatible server pays per document and round trip far more than
        per byte."""
        stamp = time.time_ns()
        documents: list[Document] = []
        for bucket, parts in sorted(batch.buckets.items()):
            base = f"{report_id}|{type_name}|{revision:09d}|{stamp:020d}|{bucket}"
            for part, encoded in enumerate(parts):
                encoded += b"]"
                blob = bytes(encoded)
                encoded.clear()  # the batch is not held twice while it is written
                documents.append(
                    {
                        "_id": base if part == 0 else f"{base}|{part}",
                        "report": report_id,
                        "t": type_name,
                        "r": revision,
                        "b": bucket,
                        "at": at,
                        # One JSON blob, not nested BSON: far cheaper to encode and decode.
                        "e": blob,
                    }
                )
        try:
            await insert_ignoring_duplicates(self._staging, documents)
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def buckets(self, report_id: str, type_name: str) -> list[str]:
        try:
            values = await self._staging.distinct("b", {"report": report_id, "t": type_name})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return sorted(str(value) for value in values)

    async def bucket(
        self,
        report_id: str,
        type_name: str,
        bucket: str,
        backup: Mapping[str, Fingerprint] | None = None,
    ) -> list[StagedObject]:
        """A bucket's objects sorted by id; an object staged twice keeps its last read.

        ``backup`` holds the fingerprints the backup has for the bucket's ids: a body
        of the backup's version, and an unchanged object's links, are dropped as they
        are read, so a bucket held for comparing weighs little more than its ids."""
        try:
            documents = await self._staging.find(
                {"report": report_id, "t": type_name, "b": bucket}
            ).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        documents.sort(key=lambda d: str(d["_id"]), reverse=True)
        known = backup or {}
        latest: dict[str, Mapping[str, Any]] = {}
        while documents:
            # Each document's bytes go as soon as they are decoded: a bucket is never
            # held twice.
            for record in orjson.loads(documents.pop()["e"]):
                found = known.get(record["o"])
                if found is not None and "x" in record and found[0] == record.get("v"):
                    del record["x"]
                latest[record["o"]] = _folded(latest.get(record["o"]), record)
        return [
            StagedObject.from_record(type_name, latest[i], known.get(i))
            for i in sorted(latest)
            if not latest[i].get("a")
        ]

    async def staged_reports(self) -> set[str]:
        """Reports with staged state (running, or left by a failed or killed one)."""
        try:
            return {str(value) for value in await self._staging.distinct("report")}
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def remove(self, report_ids: Iterable[str]) -> int:
        ids = list(report_ids)
        if not ids:
            return 0
        try:
            result = await self._staging.delete_many({"report": {"$in": ids}})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return int(result.deleted_count)
