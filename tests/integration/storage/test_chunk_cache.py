"""Manifest chunks and sealed segments' headers kept across the stores of a process
(``storage.chunk_cache``), against a real MongoDB server: a job finds what the last job
read without asking the server, and nothing of a segment still being written is kept
beyond its store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rewind_common.storage import chunks as chunks_module
from rewind_common.storage import manifest as manifest_module
from rewind_common.storage.chunk_cache import (
    ChunkCache,
    forget_process_caches,
    process_chunk_cache,
)
from rewind_common.storage.manifest import ManifestEntry, Segment
from rewind_common.storage.mongo import Collection, Mongo
from rewind_common.storage.snapshots import SnapshotStore

USERS = [f"u{index}" for index in range(9)]


@pytest.fixture(autouse=True)
def three_entries_a_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks_module, "CHUNK_ENTRIES", 3)
    monkeypatch.setattr(manifest_module, "CHUNK_ENTRIES", 3)


@pytest.fixture
def cache() -> Iterator[ChunkCache]:
    yield process_chunk_cache("chunk-cache-test", 1024 * 1024)
    forget_process_caches(["chunk-cache-test"])


def _users(*ids: str) -> list[ManifestEntry]:
    return [ManifestEntry(type="user", object_id=i, version=f"v-{i}") for i in ids]


async def _versions(store: SnapshotStore, segment: str, ids: list[str]) -> dict[str, str]:
    chain = [Segment(segment, frozenset({"user"}))]
    entries = await store.manifests.get_entries(chain, "user", ids)
    return {object_id: str(entry.version) for object_id, entry in entries.items()}


async def _remove_segment(mongo: Mongo, segment: str) -> None:
    await mongo.collection(Collection.MANIFEST).delete_many({"seg": segment})


async def test_the_next_job_reads_a_sealed_segment_from_the_process_cache(
    mongo: Mongo, cache: ChunkCache
) -> None:
    first_job = SnapshotStore(mongo, chunk_cache=cache)
    await first_job.put_entries("sealed", _users(*USERS))
    first_job.chunks.trust_sealed(["sealed"])
    assert await _versions(first_job, "sealed", USERS) == {i: f"v-{i}" for i in USERS}
    # Gone from the server: only what the process kept can answer now.
    await _remove_segment(mongo, "sealed")

    next_job = SnapshotStore(mongo, chunk_cache=cache)
    next_job.chunks.trust_sealed(["sealed"])
    assert await _versions(next_job, "sealed", USERS) == {i: f"v-{i}" for i in USERS}
    assert next_job.chunks.fetched == 0
    assert sum(h.count for h in await next_job.chunks.headers("sealed", "user")) == len(USERS)

    # A store of its own (verify's) asks the server, and finds what is really stored.
    own = SnapshotStore(mongo)
    assert await _versions(own, "sealed", USERS) == {}


async def test_headers_of_a_segment_being_written_are_asked_for_again(
    mongo: Mongo, cache: ChunkCache
) -> None:
    """A snapshot's own segment gains chunks type by type while it is sealed (possibly
    by another process after a redelivery): its headers are never kept for the next job."""
    first_job = SnapshotStore(mongo, chunk_cache=cache)
    await first_job.put_entries("sealing", _users(*USERS[:3]))
    await first_job.chunks.prime_headers(["sealing", "other"])
    assert len(await first_job.chunks.headers("sealing", "user")) == 1

    elsewhere = SnapshotStore(mongo)
    await elsewhere.put_entries("sealing", _users(*USERS[3:]))

    next_job = SnapshotStore(mongo, chunk_cache=cache)
    assert len(await next_job.chunks.headers("sealing", "user")) == 3
    assert await _versions(next_job, "sealing", USERS) == {i: f"v-{i}" for i in USERS}


async def test_a_segment_written_to_is_no_longer_taken_as_sealed(
    mongo: Mongo, cache: ChunkCache
) -> None:
    store = SnapshotStore(mongo, chunk_cache=cache)
    store.chunks.trust_sealed(["mislabelled"])
    await store.put_entries("mislabelled", _users(*USERS[:3]))
    await store.chunks.prime_headers(["mislabelled", "other"])
    await store.put_entries("mislabelled", _users(*USERS[3:]))

    next_job = SnapshotStore(mongo, chunk_cache=cache)
    next_job.chunks.trust_sealed(["mislabelled"])
    assert len(await next_job.chunks.headers("mislabelled", "user")) == 3


async def test_the_cache_keeps_no_more_than_its_capacity(mongo: Mongo) -> None:
    writer = SnapshotStore(mongo)
    await writer.put_entries("big", _users(*USERS))
    one_chunk = ChunkCache(capacity=10**9)
    await SnapshotStore(mongo, chunk_cache=one_chunk).manifests.get_entries(
        [Segment("big", frozenset({"user"}))], "user", USERS[:1]
    )
    chunk_size = one_chunk.bytes

    small = ChunkCache(capacity=chunk_size * 2)
    reader = SnapshotStore(mongo, chunk_cache=small)
    assert len(await _versions(reader, "big", USERS)) == len(USERS)
    assert 0 < small.bytes <= chunk_size * 2


def test_one_cache_per_database_in_a_process() -> None:
    try:
        first = process_chunk_cache("db-one", 1000)
        assert process_chunk_cache("db-one", 2000) is first
        assert first.capacity == 2000
        assert process_chunk_cache("db-two", 1000) is not first
    finally:
        forget_process_caches(["db-one", "db-two"])
