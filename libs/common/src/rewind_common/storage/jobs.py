"""Jobs in MongoDB: created by the API (or the scheduler), changed only by the status
recorder applying workers' status messages, plus each job's resumable checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.errors import PyMongoError

from rewind_common.errors import NotFound
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import (
    TERMINAL_STATUSES,
    Job,
    JobKind,
    JobStatus,
    JobWarning,
    can_transition,
)
from rewind_common.storage.mongo import (
    Collection,
    Document,
    Mongo,
    decode_cursor,
    encode_cursor,
    unavailable,
)

#: A job keeps at most this many warnings; more are counted in ``counters.warningsDropped``.
MAX_WARNINGS = 1000


@dataclass(frozen=True)
class AppliedMessage:
    job: Job
    #: True when this message moved the job to its status (not a duplicate or late one).
    status_changed: bool


def job_to_document(job: Job) -> Document:
    document = job.model_dump(mode="python", by_alias=True)
    document["_id"] = document.pop("id")
    return document


def document_to_job(document: Document) -> Job:
    data = dict(document)
    data["id"] = data.pop("_id")
    return Job.model_validate(data)


class JobRepository:
    def __init__(self, mongo: Mongo) -> None:
        self._jobs = mongo.collection(Collection.JOBS)
        self._checkpoints = mongo.collection(Collection.JOB_CHECKPOINTS)

    async def insert(self, job: Job) -> Job:
        try:
            await self._jobs.insert_one(job_to_document(job))
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return job

    async def find(self, job_id: str) -> Job | None:
        try:
            document = await self._jobs.find_one({"_id": job_id})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return document_to_job(document) if document else None

    async def get(self, tenant_id: str, job_id: str, kind: JobKind | None = None) -> Job:
        job = await self.find(job_id)
        if job is None or job.tenant_id != tenant_id or (kind is not None and job.kind != kind):
            noun = "job" if kind is None else kind.value
            raise NotFound(f"{noun} {job_id} does not exist in tenant {tenant_id}")
        return job

    async def page(
        self,
        tenant_id: str,
        *,
        kind: JobKind | None = None,
        status: JobStatus | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[Job], str | None]:
        """Newest first, ``limit`` at a time; returns the next cursor or None."""
        query: Document = {"tenantId": tenant_id}
        if kind is not None:
            query["kind"] = kind.value
        if status is not None:
            query["status"] = status.value
        if cursor:
            query["_id"] = {"$lt": str(decode_cursor(cursor).get("id", ""))}
        try:
            documents = (
                await self._jobs.find(query).sort("_id", DESCENDING).limit(limit + 1).to_list()
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        jobs = [document_to_job(d) for d in documents[:limit]]
        following = encode_cursor({"id": jobs[-1].id}) if len(documents) > limit else None
        return jobs, following

    async def request_cancel(self, tenant_id: str, job_id: str) -> Job:
        await self.get(tenant_id, job_id)
        try:
            document = await self._jobs.find_one_and_update(
                {"_id": job_id},
                {"$set": {"cancelRequested": True}},
                return_document=ReturnDocument.AFTER,
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        assert document is not None
        return document_to_job(document)

    async def apply(self, message: StatusMessage) -> Job | None:
        """Apply one status message; returns the job as it now is, or None if the job is
        unknown (see ``apply_message``)."""
        applied = await self.apply_message(message)
        return applied.job if applied else None

    async def apply_message(self, message: StatusMessage) -> AppliedMessage | None:
        """Apply one status message; returns the job as it now is and whether this message
        changed its status, or None if the job is unknown. Idempotent and order-safe:

        - status, progress, counters and result change only when the message's sequence
          number is newer than the last applied one and the transition is allowed
          (terminal statuses are final);
        - warnings are merged whatever the order, without duplicates, so none is lost
          when messages arrive out of order.
        """
        try:
            current = await self._jobs.find_one({"_id": message.job_id})
            if current is None:
                return None
            job = document_to_job(current)
            update: dict[str, Any] = {}
            moves = message.seq > job.last_seq and can_transition(job.status, message.status)
            if moves:
                update.update(self._status_fields(job, message))
            fresh = self._new_warnings(job, message)
            room = max(MAX_WARNINGS - len(job.warnings), 0)
            kept, dropped = fresh[:room], len(fresh) - min(len(fresh), room)
            if kept:
                update["warnings"] = [w.model_dump(by_alias=True) for w in kept]
            if dropped:
                counters = dict(update.get("counters", job.counters))
                counters["warningsDropped"] = counters.get("warningsDropped", 0) + dropped
                update["counters"] = counters
            if not update:
                return AppliedMessage(job, status_changed=False)
            operation: dict[str, Any] = {}
            warnings = update.pop("warnings", None)
            if update:
                operation["$set"] = update
            if warnings:
                operation["$push"] = {"warnings": {"$each": warnings}}
            document = await self._jobs.find_one_and_update(
                {"_id": message.job_id},
                operation,
                return_document=ReturnDocument.AFTER,
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        if document is None:
            return None
        updated = document_to_job(document)
        return AppliedMessage(updated, status_changed=moves and updated.last_seq == message.seq)

    @staticmethod
    def _status_fields(job: Job, message: StatusMessage) -> dict[str, Any]:
        fields: dict[str, Any] = {"status": message.status.value, "lastSeq": message.seq}
        if job.started_at is None and message.status is not JobStatus.QUEUED:
            fields["startedAt"] = message.at
        if message.status in TERMINAL_STATUSES:
            fields["finishedAt"] = message.at
        if message.progress is not None:
            fields["progress"] = message.progress.model_dump(by_alias=True)
        if message.counters is not None:
            fields["counters"] = {**job.counters, **message.counters}
        if message.error is not None:
            fields["error"] = message.error.model_dump(by_alias=True)
        if message.result:
            fields["result"] = {**job.result, **message.result}
        return fields

    @staticmethod
    def _new_warnings(job: Job, message: StatusMessage) -> list[JobWarning]:
        seen = {(w.type, w.object_id, w.reason) for w in job.warnings}
        fresh = []
        for warning in message.warnings:
            key = (warning.type, warning.object_id, warning.reason)
            if key not in seen:
                seen.add(key)
                fresh.append(warning)
        return fresh

    # -- checkpoints: a worker's resumable progress, private to the worker --------------

    async def load_checkpoint(self, job_id: str) -> Document:
        try:
            document = await self._checkpoints.find_one({"_id": job_id})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        if not document:
            return {}
        document.pop("_id", None)
        state = document.get("state")
        return state if isinstance(state, dict) else {}

    async def save_checkpoint(self, job_id: str, state: Document, at: datetime) -> None:
        try:
            await self._checkpoints.replace_one(
                {"_id": job_id}, {"_id": job_id, "state": state, "savedAt": at}, upsert=True
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc
