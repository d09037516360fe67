"""What a running snapshot has read, before its segment is sealed.

Graph returns objects in no particular order, while a segment is stored sorted by id.
So each page's records are first written here, split by the first character of their
object id (``manifest.bucket_of``); sealing then reads one bucket at a time, sorts it
and writes the segment's chunks. Memory is bounded by a bucket, not the tenant.

A record is what one read said about one object, in the order the reads happened
(``r``, the page's revision within its type, then its place in the page): a body, links, or
that the object is gone. An object reported twice in one delta round simply has two
records; sealing folds them, the later one winning. Records of an abandoned attempt at
a type (``a``, bumped when a type's read restarts from scratch) are ignored.

Staging documents are insert-only too: ``_id`` is ``{segment}|{type}|{attempt}|
{revision}|{time written}|{bucket or *}[|{part}]``; sealing reads them in that order. A
write redone after a redelivery is kept next to the one it redoes (sealing folds the
repeated records). A small write is one document listing its buckets in ``b``; a big
one is a document per bucket.
Retention removes the staging of sealed or abandoned snapshots.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from bson import Binary
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from rewind_common.storage.canonical import right_sized
from rewind_common.storage.inserts import insert_ignoring_duplicates
from rewind_common.storage.manifest import bucket_of
from rewind_common.storage.mongo import Document, unavailable

#: Kinds of record.
BODY = "b"
LINKS = "l"
GONE = "g"

_DOCUMENT_BYTES = 4_000_000
#: A page with at most this many records is one document (naming every bucket it
#: holds); a bigger one is split by bucket, so sealing a bucket reads only its share.
_ONE_DOCUMENT = 400

StagingRecord = dict[str, Any]


def staging_id(
    segment: str, type_name: str, attempt: int, revision: int, stamp: int, bucket: str
) -> str:
    # The write's time keeps a redone write (after a lost checkpoint) after the one it
    # redoes, and apart from it: both are kept, the later one wins at sealing.
    return f"{segment}|{type_name}|{attempt}|{revision:09d}|{stamp:020d}|{bucket}"


class StagingStore:
    def __init__(self, staging: AsyncCollection[Document]) -> None:
        self._staging = staging

    async def write(
        self,
        segment: str,
        type_name: str,
        attempt: int,
        revision: int,
        records: Iterable[StagingRecord],
    ) -> None:
        """Store one page's records (each with ``o``, its object id), by bucket."""
        records = list(records)
        by_bucket: dict[str, list[StagingRecord]] = defaultdict(list)
        for record in records:
            by_bucket[bucket_of(record["o"])].append(record)
        groups: list[tuple[str, Any, list[StagingRecord]]]
        if len(records) <= _ONE_DOCUMENT:
            groups = [("*", sorted(by_bucket), records)]
        else:
            groups = [(bucket, bucket, found) for bucket, found in sorted(by_bucket.items())]
        documents: list[Document] = []
        stamp = time.time_ns()
        for name, buckets, group in groups:
            base = staging_id(segment, type_name, attempt, revision, stamp, name)
            for part, encoded in enumerate(_encoded_parts(group)):
                documents.append(
                    {
                        "_id": base if part == 0 else f"{base}|{part}",
                        "seg": segment,
                        "t": type_name,
                        "a": attempt,
                        "r": revision,
                        "b": buckets,
                        "e": Binary(encoded),
                    }
                )
        try:
            await insert_ignoring_duplicates(self._staging, documents)
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def buckets(self, segment: str, type_name: str, attempt: int) -> list[str]:
        try:
            values = await self._staging.distinct(
                "b", {"seg": segment, "t": type_name, "a": attempt}
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return sorted(str(value) for value in values)

    async def records(
        self, segment: str, type_name: str, attempt: int, buckets: Iterable[str]
    ) -> list[StagingRecord]:
        """The records of some buckets, in the order they were read."""
        wanted = set(buckets)
        try:
            documents = await self._staging.find(
                {"seg": segment, "t": type_name, "a": attempt, "b": {"$in": sorted(wanted)}}
            ).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        documents.sort(key=lambda d: str(d["_id"]))
        ordered: list[StagingRecord] = []
        for document in documents:
            raw = document.get("e", b"")
            records = orjson.loads(bytes(raw)) if isinstance(raw, bytes) else list(raw)
            if isinstance(document.get("b"), list):
                records = [r for r in records if bucket_of(r["o"]) in wanted]
            ordered.extend(records)
        return ordered

    async def remove_segments(self, segments: Iterable[str]) -> int:
        """Retention only: drop the staging of sealed or abandoned snapshots."""
        try:
            result = await self._staging.delete_many({"seg": {"$in": list(segments)}})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return int(result.deleted_count)

    async def segments(self) -> set[str]:
        try:
            return {str(value) for value in await self._staging.distinct("seg")}
        except PyMongoError as exc:
            raise unavailable(exc) from exc


def _encoded_parts(records: list[StagingRecord]) -> list[bytes]:
    """The JSON arrays of ``records``, each well under MongoDB's 16 MB document limit:
    one array as a rule (one call to orjson for the lot), record by record only when
    the records are too big for one."""
    whole = orjson.dumps(records)
    if len(whole) <= _DOCUMENT_BYTES:
        return [right_sized(whole)]
    encoded_records = [orjson.dumps(record) for record in records]
    return [b"[" + b",".join(part) + b"]" for part in _split(encoded_records)]


def _split(encoded: list[bytes]) -> list[list[bytes]]:
    """Records' JSON, grouped to keep each group well under ``_DOCUMENT_BYTES``."""
    parts: list[list[bytes]] = [[]]
    size = 0
    for record in encoded:
        if parts[-1] and size + len(record) > _DOCUMENT_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(record)
        size += len(record) + 1
    return parts


def ordered_records(records: Iterable[StagingRecord]) -> dict[str, list[StagingRecord]]:
    """Records grouped by object id, each group in reading order."""
    grouped: dict[str, list[StagingRecord]] = defaultdict(list)
    for record in records:
        grouped[record["o"]].append(record)
    return grouped


def link_spec(record: Mapping[str, Any], link: str) -> Mapping[str, Any] | None:
    links = record.get("L")
    if not isinstance(links, Mapping):
        return None
    spec = links.get(link)
    return spec if isinstance(spec, Mapping) else None
