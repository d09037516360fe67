"""The fixture servers are real: data written is read back through the real protocols."""

from __future__ import annotations

import redis.asyncio as aioredis
from pymongo import AsyncMongoClient


async def test_redis_round_trip(redis_db_url: str) -> None:
    client = aioredis.Redis.from_url(redis_db_url)
    try:
        await client.rpush("queue", "a", "b")
        assert await client.lrange("queue", 0, -1) == [b"a", b"b"]
    finally:
        await client.aclose()


async def test_mongo_round_trip(mongo_url: str, mongo_database_name: str) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_url)
    try:
        collection = client[mongo_database_name]["things"]
        await collection.insert_one({"_id": "x", "value": 1})
        assert await collection.find_one({"_id": "x"}) == {"_id": "x", "value": 1}
    finally:
        await client.drop_database(mongo_database_name)
        await client.close()
