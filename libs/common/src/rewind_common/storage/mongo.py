"""The MongoDB connection, collection names and indexes.

Every index is declared here and created by ``Mongo.ensure_indexes`` (the API does it
at start): the workers' database roles may not create indexes.

Only features MongoDB itself supports are used, so a real mongod and the local
wire-protocol server behave the same.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, PyMongoError

from rewind_common.errors import DependencyUnavailable, InvalidRequest

if TYPE_CHECKING:
    from rewind_common.settings import Settings

Document = dict[str, Any]


class Collection(StrEnum):
    JOBS = "jobs"
    JOB_CHECKPOINTS = "job_checkpoints"
    # snapshot data: insert-only
    SNAPSHOTS = "snapshots"
    MANIFEST = "manifest"
    MANIFEST_SEGMENTS = "manifest_segments"
    VERSIONS = "versions"
    LINKSETS = "linksets"
    LEGAL_HOLDS = "legal_holds"
    #: A running snapshot's records before they are sealed into manifest chunks.
    MANIFEST_STAGING = "manifest_staging"
    # reports and recoveries
    REPORTS = "difference_reports"
    CHANGES = "changes"
    #: The live state a full difference report compares, while it runs.
    REPORT_STAGING = "report_staging"
    RECOVERY_ACTIONS = "recovery_actions"
    # API
    TOKENS = "api_tokens"
    IDEMPOTENCY = "idempotency_keys"


#: Collections whose documents are never updated; only retention deletes from them.
INSERT_ONLY = frozenset(
    {
        Collection.SNAPSHOTS,
        Collection.MANIFEST,
        Collection.MANIFEST_SEGMENTS,
        Collection.VERSIONS,
        Collection.LINKSETS,
    }
)

#: Staging left by a report that never finished is removed by MongoDB after this long.
REPORT_STAGING_LIFETIME_SECONDS = 2 * 24 * 3600

INDEXES: dict[Collection, list[IndexModel]] = {
    Collection.JOBS: [
        IndexModel([("tenantId", ASCENDING), ("_id", DESCENDING)]),
        IndexModel([("tenantId", ASCENDING), ("kind", ASCENDING), ("_id", DESCENDING)]),
    ],
    Collection.SNAPSHOTS: [IndexModel([("tenantId", ASCENDING), ("_id", DESCENDING)])],
    Collection.MANIFEST: [
        IndexModel([("seg", ASCENDING), ("t", ASCENDING), ("o", ASCENDING)], unique=True),
    ],
    Collection.VERSIONS: [IndexModel([("firstSnapshot", ASCENDING)])],
    Collection.MANIFEST_STAGING: [
        IndexModel([("seg", ASCENDING), ("t", ASCENDING), ("a", ASCENDING), ("b", ASCENDING)]),
    ],
    Collection.CHANGES: [
        IndexModel([("report", ASCENDING), ("seq", ASCENDING)], unique=True),
        IndexModel([("report", ASCENDING), ("type", ASCENDING), ("seq", ASCENDING)]),
        IndexModel([("report", ASCENDING), ("change", ASCENDING), ("seq", ASCENDING)]),
    ],
    Collection.REPORT_STAGING: [
        IndexModel([("report", ASCENDING), ("t", ASCENDING), ("b", ASCENDING)]),
        IndexModel([("at", ASCENDING)], expireAfterSeconds=REPORT_STAGING_LIFETIME_SECONDS),
    ],
    Collection.RECOVERY_ACTIONS: [
        IndexModel([("recovery", ASCENDING), ("seq", ASCENDING)], unique=True),
    ],
    Collection.REPORTS: [IndexModel([("tenantId", ASCENDING), ("_id", DESCENDING)])],
}


class Mongo:
    """One client per process; ``db`` is the Rewind database."""

    @classmethod
    def of(cls, settings: Settings) -> Mongo:
        """The client the settings describe."""
        return cls(
            settings.mongo_url.get_secret_value(),
            settings.mongo_database,
            socket_timeout_ms=int(settings.mongo_socket_timeout_seconds * 1000),
        )

    def __init__(
        self,
        url: str,
        database: str,
        *,
        timeout_ms: int = 5000,
        socket_timeout_ms: int = 60_000,
    ) -> None:
        self.client: AsyncMongoClient[Document] = AsyncMongoClient(
            url,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            # without it, a request the server never answers waits forever
            socketTimeoutMS=socket_timeout_ms,
            tz_aware=True,
            retryWrites=True,
            retryReads=True,
        )
        self.db: AsyncDatabase[Document] = self.client[database]

    def collection(self, name: Collection) -> AsyncCollection[Document]:
        return self.db[name.value]

    async def ensure_indexes(self) -> None:
        for name, indexes in INDEXES.items():
            await self.collection(name).create_indexes(indexes)

    async def ping(self) -> None:
        try:
            await self.client.admin.command("ping")
        except PyMongoError as exc:
            raise DependencyUnavailable(f"MongoDB does not answer: {exc}") from exc

    async def close(self) -> None:
        await self.client.close()


def unavailable(exc: PyMongoError) -> DependencyUnavailable:
    kind = "unreachable" if isinstance(exc, ConnectionFailure) else "failed"
    return DependencyUnavailable(f"MongoDB {kind}: {exc}")


def encode_cursor(position: Mapping[str, Any]) -> str:
    """An opaque paging cursor holding the sort key of the last item returned."""
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise InvalidRequest("the cursor is not one this API returned") from exc
    if not isinstance(value, dict):
        raise InvalidRequest("the cursor is not one this API returned")
    return value
