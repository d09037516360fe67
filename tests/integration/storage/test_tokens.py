"""API tokens in MongoDB: stored as hashes, listed without secrets, revocable."""

from __future__ import annotations

import pytest

from rewind_common.errors import NotFound
from rewind_common.storage.mongo import Collection, Mongo
from rewind_common.storage.tokens import Role, TokenRepository, hash_token


async def test_a_token_authenticates_until_it_is_revoked(mongo: Mongo) -> None:
    tokens = TokenRepository(mongo)
    await tokens.ensure_indexes()
    secret, record = await tokens.create("ci", Role.OPERATOR, created_by="admin")
    found = await tokens.authenticate(secret)
    assert found == record
    assert found.role is Role.OPERATOR
    assert await tokens.authenticate(secret + "x") is None
    assert await tokens.authenticate("not-a-token") is None

    revoked = await tokens.revoke(record.id)
    assert revoked.revoked_at is not None
    assert await tokens.authenticate(secret) is None
    assert (await tokens.revoke(record.id)).revoked_at == revoked.revoked_at
    with pytest.raises(NotFound):
        await tokens.revoke("no-such-id")


async def test_only_the_hash_is_stored(mongo: Mongo) -> None:
    tokens = TokenRepository(mongo)
    secret, _ = await tokens.create("ci", Role.READER)
    documents = await mongo.collection(Collection.TOKENS).find({}).to_list()
    assert [d["_id"] for d in documents] == [hash_token(secret)]
    assert secret not in repr(documents)


async def test_tokens_are_listed_newest_first(mongo: Mongo) -> None:
    tokens = TokenRepository(mongo)
    names = [f"t{i}" for i in range(5)]
    for name in names:
        await tokens.create(name, Role.READER)
    first, cursor = await tokens.page(limit=3)
    assert [t.name for t in first] == ["t4", "t3", "t2"]
    assert cursor is not None
    rest, end = await tokens.page(cursor=cursor, limit=3)
    assert [t.name for t in rest] == ["t1", "t0"]
    assert end is None


async def test_a_cached_token_is_forgotten_on_revocation_or_after_its_time(mongo: Mongo) -> None:
    now = [0.0]
    api = TokenRepository(mongo, cache_seconds=5, clock=lambda: now[0])
    other_api = TokenRepository(mongo, cache_seconds=5, clock=lambda: now[0])
    secret, record = await api.create("ci", Role.OPERATOR)
    assert await api.authenticate(secret) == record
    assert await other_api.authenticate(secret) == record

    await api.revoke(record.id)
    assert await api.authenticate(secret) is None, "revoked here: refused at once"
    assert await other_api.authenticate(secret) == record, "another process trusts it a while"
    now[0] = 5.1
    assert await other_api.authenticate(secret) is None
