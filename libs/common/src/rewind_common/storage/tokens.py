"""API bearer tokens, stored hashed.

A token is shown once, when it is created; MongoDB keeps only its SHA-256, so a copy of
the database grants no access. Each token also has a public id (what listings show and
revocation takes), a name (recorded as ``createdBy`` of the jobs it starts) and a role.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import PyMongoError

from rewind_common.errors import NotFound
from rewind_common.ids import new_id
from rewind_common.jobs.model import utcnow
from rewind_common.storage.memo import ExpiringMemo
from rewind_common.storage.mongo import (
    Collection,
    Document,
    Mongo,
    decode_cursor,
    encode_cursor,
    unavailable,
)

TOKEN_PREFIX = "rwd_"  # noqa: S105 (the public prefix of every token, not a secret)
#: ``secrets.token_urlsafe(30)`` yields 40 url-safe characters (240 random bits).
_TOKEN_RANDOM_BYTES = 30


class Role(StrEnum):
    """What a token may do; each role includes everything the roles before it may do."""

    READER = "reader"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, required: Role) -> bool:
        """Whether a holder of this role may use something that requires ``required``."""
        return self.rank >= required.rank


_RANKS = {Role.READER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


def _to_millis(moment: datetime) -> datetime:
    """MongoDB keeps milliseconds; the record returned equals the record read back."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def generate_token() -> str:
    """A new secret bearer token: ``rwd_`` and 40 url-safe random characters."""
    return TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_RANDOM_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenRecord:
    """A stored token, without its secret."""

    id: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None = None
    created_by: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def from_document(cls, document: Document) -> TokenRecord:
        return cls(
            id=document["id"],
            name=document["name"],
            role=Role(document["role"]),
            created_at=document["createdAt"],
            revoked_at=document.get("revokedAt"),
            created_by=document.get("createdBy"),
        )


class TokenRepository:
    """Tokens in MongoDB. With ``cache_seconds``, a token found valid is trusted that long
    without asking MongoDB again (every API request authenticates); revoking through this
    repository forgets every cached token at once, another API process's cache within
    ``cache_seconds``."""

    def __init__(
        self,
        mongo: Mongo,
        *,
        cache_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tokens = mongo.collection(Collection.TOKENS)
        self._valid: ExpiringMemo[str, TokenRecord] = ExpiringMemo(cache_seconds, clock=clock)

    async def ensure_indexes(self) -> None:
        try:
            await self._tokens.create_indexes(
                [IndexModel([("id", ASCENDING)], unique=True, sparse=True)]
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def create(
        self,
        name: str,
        role: Role,
        *,
        created_by: str | None = None,
        at: datetime | None = None,
    ) -> tuple[str, TokenRecord]:
        """Store a new token; returns the secret (never stored) and its record."""
        token = generate_token()
        record = TokenRecord(
            id=new_id(),
            name=name,
            role=role,
            created_at=_to_millis(at or utcnow()),
            created_by=created_by,
        )
        document: dict[str, Any] = {
            "_id": hash_token(token),
            "id": record.id,
            "name": record.name,
            "role": record.role.value,
            "createdAt": record.created_at,
            "revokedAt": None,
            "createdBy": record.created_by,
        }
        try:
            await self._tokens.insert_one(document)
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return token, record

    async def authenticate(self, token: str) -> TokenRecord | None:
        """The active token's record, or None for an unknown or revoked token."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = hash_token(token)
        cached = self._valid.get(digest)
        if cached is not None:
            return cached
        try:
            document = await self._tokens.find_one({"_id": digest})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        if document is None:
            return None
        record = TokenRecord.from_document(document)
        if not record.active:
            return None
        self._valid.put(digest, record)
        return record

    async def page(
        self, *, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[TokenRecord], str | None]:
        """Newest first, revoked tokens included (they show ``revoked_at``)."""
        query: Document = {"id": {"$exists": True}}
        if cursor:
            query["id"] = {"$lt": str(decode_cursor(cursor).get("id", ""))}
        try:
            documents = (
                await self._tokens.find(query, {"_id": 0})
                .sort("id", DESCENDING)
                .limit(limit + 1)
                .to_list()
            )
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        records = [TokenRecord.from_document(d) for d in documents[:limit]]
        following = encode_cursor({"id": records[-1].id}) if len(documents) > limit else None
        return records, following

    async def revoke(self, token_id: str, *, at: datetime | None = None) -> TokenRecord:
        """Revoke a token by its public id; revoking twice keeps the first time."""
        self._valid.forget()
        try:
            document = await self._tokens.find_one_and_update(
                {"id": token_id, "revokedAt": None},
                {"$set": {"revokedAt": at or utcnow()}},
                projection={"_id": 0},
                return_document=ReturnDocument.AFTER,
            )
            if document is None:
                document = await self._tokens.find_one({"id": token_id}, {"_id": 0})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        if document is None:
            raise NotFound(f"token {token_id} does not exist")
        return TokenRecord.from_document(document)
