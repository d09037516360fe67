"""Insert-only writes that any number of retries can repeat."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import InsertOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from rewind_common.storage.mongo import Document

DUPLICATE_KEY = 11000


def duplicates_only(exc: BulkWriteError) -> bool:
    return all(error.get("code") == DUPLICATE_KEY for error in exc.details.get("writeErrors", []))


async def insert_ignoring_duplicates(
    collection: AsyncCollection[Document], documents: Sequence[Document]
) -> int:
    """Insert documents whose ``_id`` or unique key may already exist; returns how many
    were new. Insert-only storage makes every write retry-safe this way."""
    if not documents:
        return 0
    try:
        result = await collection.bulk_write([InsertOne(d) for d in documents], ordered=False)
        return int(result.inserted_count)
    except BulkWriteError as exc:
        if not duplicates_only(exc):
            raise
        return int(exc.details.get("nInserted", 0))
