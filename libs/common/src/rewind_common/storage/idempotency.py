"""Idempotency keys of requests that start work.

A client that retries a request (after a timeout, say) sends the same ``Idempotency-Key``
and must get the job the first attempt created, not a second job. A key is claimed with
an insert on ``_id``, so two concurrent requests with one key cannot both win. Keys are
scoped (the API uses the tenant) and forgotten after ``KEY_LIFETIME_SECONDS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError, PyMongoError

from rewind_common.domain.hashing import canonical_json, sha256_hex
from rewind_common.errors import Conflict
from rewind_common.storage.mongo import Collection, Document, Mongo, unavailable

#: How long a key is remembered (MongoDB's TTL monitor removes older claims).
KEY_LIFETIME_SECONDS = 24 * 3600


def request_hash(route: str, body: Mapping[str, Any]) -> str:
    """What makes two requests "the same": the route they target and their body, in
    canonical JSON (key order and whitespace do not matter)."""
    return sha256_hex(canonical_json([route, dict(body)]))


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    request_hash: str
    job_id: str
    created_at: datetime

    @classmethod
    def from_document(cls, document: Document) -> IdempotencyRecord:
        return cls(
            key=document["_id"],
            request_hash=document["bodyHash"],
            job_id=document["jobId"],
            created_at=document["createdAt"],
        )


class IdempotencyRepository:
    def __init__(self, mongo: Mongo) -> None:
        self._keys = mongo.collection(Collection.IDEMPOTENCY)

    async def ensure_indexes(self) -> None:
        try:
            await self._keys.create_indexes(
                [IndexModel([("createdAt", ASCENDING)], expireAfterSeconds=KEY_LIFETIME_SECONDS)]
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def find(self, key: str) -> IdempotencyRecord | None:
        try:
            document = await self._keys.find_one({"_id": key})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return IdempotencyRecord.from_document(document) if document else None

    async def claim(
        self, key: str, request_hash: str, job_id: str, *, at: datetime
    ) -> IdempotencyRecord:
        """Claim ``key`` for ``job_id``. Returns the record owning the key: the new one,
        or the earlier claim of an identical request (whose job the caller returns).

        Raises ``Conflict`` when the key was used for a different request.
        """
        document = {"_id": key, "bodyHash": request_hash, "jobId": job_id, "createdAt": at}
        try:
            await self._keys.insert_one(document)
            return IdempotencyRecord.from_document(document)
        except DuplicateKeyError:
            existing = await self.find(key)
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        if existing is None:
            # The earlier claim was released between our insert and our read.
            return await self.claim(key, request_hash, job_id, at=at)
        if existing.request_hash != request_hash:
            raise Conflict(
                "this Idempotency-Key was already used for a different request; "
                "use a new key for a new request"
            )
        return existing

    async def release(self, key: str, job_id: str) -> None:
        """Forget a claim whose job could not be started, so a retry may start it."""
        try:
            await self._keys.delete_one({"_id": key, "jobId": job_id})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
