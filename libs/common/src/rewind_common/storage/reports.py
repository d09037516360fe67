"""Difference reports in MongoDB: one record per report and one document per change.

Written by the differ, read by the API and by the recoverer (which starts recoveries
from a report). Public API::

    store = ReportStore(mongo)
    await store.ensure_indexes()

    # the differ
    await store.start(record)                       # insert-once, at the job's first step
    await store.put_changes(report_id, changes)     # idempotent: deterministic keys
    summary = await store.summarize(report_id)      # {type: {change: n}} from the changes
    await store.complete(report_id, summary=..., completed_at=..., counters=...)

    # readers (API, recoverer)
    record = await store.get(tenant_id, report_id)  # ReportRecord; NotFound otherwise
    record.complete                                 # True once every change is stored
    page, next_cursor = await store.page_changes(report_id, types=..., kinds=..., cursor=...)
    async for change in store.iter_changes(report_id, types=..., kinds=...): ...
    change = await store.find_change(report_id, type_name, object_id)

Changes come back as ``domain.changes.Change`` in a stable order: registry order of
their types (the dependency order a recovery writes in), then object id. Each change
document's key is ``{report}|{seq}`` with ``seq = {type rank:02d}:{object id}``, so a
step that is redelivered after storing some changes stores each of them once, and a
page cursor is just the last ``seq`` returned. The change itself is kept as its JSON
text: Graph values may hold keys MongoDB treats specially (``.``, ``$``).

A report's record is only trustworthy for a recovery once ``complete`` is true: until
then the changes are a prefix of the report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError, PyMongoError

from rewind_common.domain.changes import Change, ChangeKind
from rewind_common.errors import NotFound
from rewind_common.registry import type_names
from rewind_common.storage.inserts import insert_ignoring_duplicates
from rewind_common.storage.mongo import (
    Collection,
    Document,
    Mongo,
    decode_cursor,
    encode_cursor,
    unavailable,
)

#: Summary of a report: change counts per type and change kind.
Summary = dict[str, dict[str, int]]

_RANK = {name: index for index, name in enumerate(type_names())}
_READ_BATCH = 500


def change_seq(type_name: str, object_id: str) -> str:
    """The sort key of a change inside its report (registry order, then id)."""
    return f"{_RANK.get(type_name, 99):02d}:{object_id}"


@dataclass(frozen=True)
class ReportRecord:
    """A difference report: the job that computes it shares its id."""

    id: str
    tenant_id: str
    snapshot_id: str
    #: Another snapshot of the tenant, or None for the live tenant.
    compare_to: str | None
    #: The scope as the client sent it (validated); None means every object.
    scope: dict[str, Any] | None
    created_at: datetime
    completed_at: datetime | None = None
    summary: Summary = field(default_factory=dict)
    #: Totals: ``changes``, ``unrecoverable``, ``objectsCompared``...
    counters: dict[str, int] = field(default_factory=dict)
    #: Types left out of the comparison, with the reason (unreadable, not in the backup).
    skipped_types: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.completed_at is not None

    @property
    def change_count(self) -> int:
        return sum(sum(kinds.values()) for kinds in self.summary.values())

    def to_document(self) -> Document:
        return {
            "_id": self.id,
            "tenantId": self.tenant_id,
            "snapshotId": self.snapshot_id,
            "compareTo": self.compare_to,
            "scope": self.scope,
            "createdAt": self.created_at,
            "completedAt": self.completed_at,
            "summary": self.summary,
            "counters": self.counters,
            "skippedTypes": self.skipped_types,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ReportRecord:
        return cls(
            id=str(document["_id"]),
            tenant_id=document["tenantId"],
            snapshot_id=document["snapshotId"],
            compare_to=document.get("compareTo"),
            scope=document.get("scope"),
            created_at=document["createdAt"],
            completed_at=document.get("completedAt"),
            summary={t: dict(k) for t, k in (document.get("summary") or {}).items()},
            counters=dict(document.get("counters") or {}),
            skipped_types=dict(document.get("skippedTypes") or {}),
        )


def _change_document(report_id: str, change: Change) -> Document:
    seq = change_seq(change.type, change.object_id)
    return {
        "_id": f"{report_id}|{seq}",
        "report": report_id,
        "seq": seq,
        "type": change.type,
        "objectId": change.object_id,
        "change": change.change.value,
        "recoverable": change.recoverable,
        "j": orjson.dumps(change.to_dict()).decode("utf-8"),
    }


def _change_of(document: Mapping[str, Any]) -> Change:
    return Change.from_dict(orjson.loads(document["j"]))


class ReportStore:
    def __init__(self, mongo: Mongo) -> None:
        self._reports = mongo.collection(Collection.REPORTS)
        self._changes = mongo.collection(Collection.CHANGES)

    async def ensure_indexes(self) -> None:
        """The change-kind index, beyond ``Mongo.ensure_indexes``'s (report, seq) and
        (report, type, seq)."""
        try:
            await self._reports.create_indexes(
                [IndexModel([("tenantId", ASCENDING), ("_id", DESCENDING)])]
            )
            await self._changes.create_indexes(
                [
                    IndexModel([("report", ASCENDING), ("seq", ASCENDING)], unique=True),
                    IndexModel([("report", ASCENDING), ("type", ASCENDING), ("seq", ASCENDING)]),
                    IndexModel([("report", ASCENDING), ("change", ASCENDING), ("seq", ASCENDING)]),
                ]
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    # -- the record ------------------------------------------------------------------

    async def start(self, record: ReportRecord) -> bool:
        """Insert the record of a report being computed; False if it exists already."""
        try:
            await self._reports.insert_one(record.to_document())
        except DuplicateKeyError:
            return False
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return True

    async def complete(
        self,
        report_id: str,
        *,
        summary: Summary,
        completed_at: datetime,
        counters: Mapping[str, int] | None = None,
        skipped_types: Mapping[str, str] | None = None,
    ) -> None:
        """Mark the report complete with its summary (repeating it changes nothing)."""
        values: Document = {"summary": summary, "completedAt": completed_at}
        if counters is not None:
            values["counters"] = dict(counters)
        if skipped_types is not None:
            values["skippedTypes"] = dict(skipped_types)
        try:
            await self._reports.update_one(
                {"_id": report_id, "completedAt": None}, {"$set": values}
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def find(self, report_id: str) -> ReportRecord | None:
        try:
            document = await self._reports.find_one({"_id": report_id})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return ReportRecord.from_document(document) if document else None

    async def get(self, tenant_id: str, report_id: str) -> ReportRecord:
        record = await self.find(report_id)
        if record is None or record.tenant_id != tenant_id:
            raise NotFound(f"difference report {report_id} does not exist in tenant {tenant_id}")
        return record

    async def records(self, report_ids: Iterable[str]) -> dict[str, ReportRecord]:
        """Records of several reports at once (those that exist)."""
        ids = list(report_ids)
        if not ids:
            return {}
        try:
            documents = await self._reports.find({"_id": {"$in": ids}}).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return {str(d["_id"]): ReportRecord.from_document(d) for d in documents}

    async def created_before(self, tenant_id: str, cutoff: datetime) -> list[str]:
        """Ids of the tenant's reports created before ``cutoff``, oldest first."""
        try:
            documents = await self._reports.find(
                {"tenantId": tenant_id, "createdAt": {"$lt": cutoff}}, {"_id": 1}
            ).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return sorted(str(d["_id"]) for d in documents)

    async def delete(self, report_ids: Iterable[str]) -> int:
        """Remove reports with their changes (the retention job's alone); the records go
        last, so a report is never listed without its changes."""
        ids = list(report_ids)
        if not ids:
            return 0
        try:
            await self._changes.delete_many({"report": {"$in": ids}})
            result = await self._reports.delete_many({"_id": {"$in": ids}})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return int(result.deleted_count)

    # -- changes ---------------------------------------------------------------------

    async def put_changes(self, report_id: str, changes: Sequence[Change]) -> int:
        """Store changes; each object's change is stored once, however often a step is
        repeated. Returns how many were new."""
        documents = [_change_document(report_id, change) for change in changes]
        try:
            return await insert_ignoring_duplicates(self._changes, documents)
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def page_changes(
        self,
        report_id: str,
        *,
        types: Iterable[str] | None = None,
        kinds: Iterable[ChangeKind | str] | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> tuple[list[Change], str | None]:
        """Changes in report order, ``limit`` at a time; returns the next cursor or None."""
        after = str(decode_cursor(cursor).get("seq", "")) if cursor else None
        documents = await self._find(report_id, types, kinds, after, limit + 1)
        changes = [_change_of(d) for d in documents[:limit]]
        following = None
        if len(documents) > limit:
            following = encode_cursor({"seq": documents[limit - 1]["seq"]})
        return changes, following

    async def iter_changes(
        self,
        report_id: str,
        *,
        types: Iterable[str] | None = None,
        kinds: Iterable[ChangeKind | str] | None = None,
    ) -> AsyncIterator[Change]:
        """Every change of the report in order, read a batch at a time."""
        after: str | None = None
        while True:
            documents = await self._find(report_id, types, kinds, after, _READ_BATCH)
            for document in documents:
                yield _change_of(document)
            if len(documents) < _READ_BATCH:
                return
            after = str(documents[-1]["seq"])

    async def find_change(self, report_id: str, type_name: str, object_id: str) -> Change | None:
        try:
            document = await self._changes.find_one(
                {"_id": f"{report_id}|{change_seq(type_name, object_id)}"}
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return _change_of(document) if document else None

    async def summarize(self, report_id: str) -> tuple[Summary, int]:
        """Counts per type and change kind of the stored changes, and how many of them
        are not recoverable."""
        pipeline: list[Document] = [
            {"$match": {"report": report_id}},
            {
                "$group": {
                    "_id": {"type": "$type", "change": "$change"},
                    "n": {"$sum": 1},
                    "bad": {"$sum": {"$cond": ["$recoverable", 0, 1]}},
                }
            },
        ]
        try:
            rows = await (await self._changes.aggregate(pipeline)).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        summary: Summary = {}
        unrecoverable = 0
        for row in sorted(
            rows, key=lambda r: (_RANK.get(r["_id"]["type"], 99), r["_id"]["change"])
        ):
            summary.setdefault(row["_id"]["type"], {})[row["_id"]["change"]] = int(row["n"])
            unrecoverable += int(row["bad"])
        return summary, unrecoverable

    async def _find(
        self,
        report_id: str,
        types: Iterable[str] | None,
        kinds: Iterable[ChangeKind | str] | None,
        after: str | None,
        limit: int,
    ) -> list[Document]:
        query: Document = {"report": report_id}
        wanted_types = sorted(set(types)) if types is not None else None
        wanted_kinds = sorted({str(k) for k in kinds}) if kinds is not None else None
        if wanted_types is not None:
            query["type"] = {"$in": wanted_types}
        if wanted_kinds is not None:
            query["change"] = {"$in": wanted_kinds}
        if after is not None:
            query["seq"] = {"$gt": after}
        try:
            return await self._changes.find(query).sort("seq", ASCENDING).limit(limit).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc
