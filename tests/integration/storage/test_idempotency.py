"""Idempotency keys: one claim per key; the same request finds it, another conflicts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from rewind_common.errors import Conflict
from rewind_common.storage.idempotency import IdempotencyRepository, request_hash
from rewind_common.storage.mongo import Mongo

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def test_the_first_claim_wins_and_the_same_request_gets_its_job(mongo: Mongo) -> None:
    keys = IdempotencyRepository(mongo)
    await keys.ensure_indexes()
    fingerprint = request_hash("POST /x", {"mode": "full"})
    first = await keys.claim("t:k1", fingerprint, "job-1", at=NOW)
    assert first.job_id == "job-1"
    again = await keys.claim("t:k1", fingerprint, "job-2", at=NOW)
    assert again.job_id == "job-1"
    with pytest.raises(Conflict):
        await keys.claim("t:k1", request_hash("POST /x", {"mode": "incremental"}), "job-3", at=NOW)


async def test_concurrent_claims_agree_on_one_job(mongo: Mongo) -> None:
    keys = IdempotencyRepository(mongo)
    fingerprint = request_hash("POST /x", {})
    claims = await asyncio.gather(
        *(keys.claim("t:k2", fingerprint, f"job-{i}", at=NOW) for i in range(8))
    )
    assert len({claim.job_id for claim in claims}) == 1


async def test_a_released_key_can_be_claimed_again(mongo: Mongo) -> None:
    keys = IdempotencyRepository(mongo)
    fingerprint = request_hash("POST /x", {})
    await keys.claim("t:k3", fingerprint, "job-1", at=NOW)
    await keys.release("t:k3", "job-other")  # only the owner's release counts
    assert (await keys.find("t:k3")) is not None
    await keys.release("t:k3", "job-1")
    assert await keys.find("t:k3") is None
    assert (await keys.claim("t:k3", fingerprint, "job-2", at=NOW)).job_id == "job-2"
