from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rewind_common.storage.mongo import Mongo


@pytest.fixture
async def mongo(mongo_url: str, mongo_database_name: str) -> AsyncIterator[Mongo]:
    connection = Mongo(mongo_url, mongo_database_name)
    await connection.ensure_indexes()
    try:
        yield connection
    finally:
        await connection.client.drop_database(mongo_database_name)
        await connection.close()
