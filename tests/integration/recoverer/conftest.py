from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from rewind_common.jobs.control import JobControl
from rewind_common.settings import Settings
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.snapshots import SnapshotStore
from tests.integration.recoverer.support import RecoveryHarness
from tests.integration.snapshotter.support import Harness
from tests.integration.tenant.emulated import EmulatedTenant


@pytest.fixture
async def rh(
    mongo_url: str, mongo_database_name: str, redis_db_url: str
) -> AsyncIterator[RecoveryHarness]:
    emulator = EmulatedTenant()
    settings = Settings(
        mongo_url=mongo_url,
        mongo_database=mongo_database_name,
        redis_url=redis_db_url,
        tenants=(emulator.connection,),
        job_step_seconds=60,
    )
    mongo = Mongo(mongo_url, mongo_database_name)
    redis = aioredis.Redis.from_url(redis_db_url)
    store = SnapshotStore(mongo)
    await store.ensure_indexes()
    base = Harness(
        settings=settings,
        mongo=mongo,
        redis=redis,
        emulator=emulator,
        store=store,
        jobs=JobRepository(mongo),
        control=JobControl(redis),
    )
    try:
        yield RecoveryHarness(base, emulator.connection)
    finally:
        await emulator.close()
        await redis.aclose()
        await mongo.client.drop_database(mongo_database_name)
        await mongo.close()
