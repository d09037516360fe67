"""Manifest chains, deduplicated versions and link sets against a real MongoDB server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from rewind_common.domain.hashing import canonical_json, version_hash
from rewind_common.domain.retention import SnapshotAge
from rewind_common.storage import chunks as chunks_module
from rewind_common.storage import manifest as manifest_module
from rewind_common.storage import packs as packs_module
from rewind_common.storage import snapshots as snapshot_module
from rewind_common.storage.manifest import ManifestEntry, Segment
from rewind_common.storage.mongo import Collection, Mongo
from rewind_common.storage.packs import LINKSETS, PackBuilder, linkset_digest
from rewind_common.storage.snapshots import SnapshotStore, linkset_hash
from tests.integration.api.support import TENANT, store_snapshot


@pytest.fixture
def three_entries_a_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of three entries: a handful of objects spans several."""
    monkeypatch.setattr(chunks_module, "CHUNK_ENTRIES", 3)
    monkeypatch.setattr(manifest_module, "CHUNK_ENTRIES", 3)


def _entry(type_name: str, object_id: str, version: str | None, **kw: object) -> ManifestEntry:
    return ManifestEntry(type=type_name, object_id=object_id, version=version, **kw)  # type: ignore[arg-type]


async def _ids(store: SnapshotStore, chain: list[Segment], type_name: str) -> dict[str, str]:
    return {e.object_id: str(e.version) async for e in store.iterate_type(chain, type_name)}


async def test_incremental_segments_fold_into_the_snapshot_manifest(mongo: Mongo) -> None:
    store = SnapshotStore(mongo)
    base = Segment("s1", frozenset({"user", "conditionalAccessPolicy"}))
    await store.put_entries(
        "s1",
        [_entry("user", f"u{i}", f"v{i}") for i in range(5)]
        + [_entry("conditionalAccessPolicy", "p1", "pv1")],
    )
    # second snapshot: u1 changed, u3 gone, u9 new; CA read whole again without p1
    second = Segment("s2", frozenset({"conditionalAccessPolicy"}))
    await store.put_entries(
        "s2",
        [
            _entry("user", "u1", "v1b"),
            _entry("user", "u3", None),
            _entry("user", "u9", "v9"),
            _entry("conditionalAccessPolicy", "p2", "pv2"),
        ],
    )
    assert await _ids(store, [base], "user") == {f"u{i}": f"v{i}" for i in range(5)}
    assert await _ids(store, [base, second], "user") == {
        "u0": "v0", "u1": "v1b", "u2": "v2", "u4": "v4", "u9": "v9",
    }  # fmt: skip
    assert await _ids(store, [base, second], "conditionalAccessPolicy") == {"p2": "pv2"}

    found = await store.get_entries([base, second], "user", ["u1", "u3", "u4", "nope"])
    assert {k: v.version for k, v in found.items()} == {"u1": "v1b", "u4": "v4"}

    after = [e.object_id async for e in store.iterate_type([base, second], "user", after="u2")]
    assert after == ["u4", "u9"]


async def test_entries_are_idempotent_per_segment(mongo: Mongo) -> None:
    store = SnapshotStore(mongo)
    entries = [_entry("group", "g1", "a"), _entry("group", "g2", "b")]
    assert await store.put_entries("s1", entries) == 2
    assert await store.put_entries("s1", entries) == 0


async def test_versions_are_stored_once_and_counted_for_their_first_snapshot(
    mongo: Mongo,
) -> None:
    store = SnapshotStore(mongo)
    bodies = [{"id": "u1", "displayName": "Ada"}, {"id": "u2", "displayName": "Grace"}]
    encoded = [(version_hash(b), canonical_json(b)) for b in bodies]
    assert await store.put_versions("snap-1", "user", encoded) == 2
    assert await store.put_versions("snap-2", "user", encoded) == 0
    count, size = await store.new_version_totals("snap-1")
    assert count == 2
    assert size == sum(len(c) for _, c in encoded)
    assert await store.new_version_totals("snap-2") == (0, 0)
    stored = await store.get_versions([encoded[0][0]])
    assert stored[encoded[0][0]].body == bodies[0]


async def test_large_link_sets_are_stored_in_parts(
    mongo: Mongo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot_module, "LINKSET_PART_SIZE", 3)
    monkeypatch.setattr(packs_module, "LINKSET_PART_SIZE", 3)
    store = SnapshotStore(mongo)
    ids = [f"m{i}" for i in range(8)]
    digest = await store.put_linkset(list(reversed(ids)))
    assert digest == linkset_hash(ids)
    assert await store.get_linkset(digest) == sorted(ids)
    assert await store.put_linkset(ids) == digest


@pytest.mark.usefixtures("three_entries_a_chunk")
async def test_segments_span_many_chunks_and_stream_in_id_order(
    mongo: Mongo, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SnapshotStore(mongo)
    base = Segment("s1", frozenset({"user"}))
    await store.put_entries("s1", [_entry("user", f"u{i:02d}", f"v{i}") for i in range(10)])
    changes = Segment("s2", frozenset())
    await store.put_entries("s2", [_entry("user", "u03", None), _entry("user", "u05", "w5")])
    chain = [base, changes]
    assert len(await store.chunks.headers("s1", "user")) == 4
    ids = [e.object_id async for e in store.iterate_type(chain, "user", after="u01", before="u07")]
    assert ids == ["u02", "u04", "u05", "u06"]
    blocks = [block async for block in store.iterate_row_blocks(chain, "user")]
    rows = [(row[0], row[1]) for block_rows, _ in blocks for row in block_rows]
    assert rows == [(f"u{i:02d}", "w5" if i == 5 else f"v{i}") for i in range(10) if i != 3]
    digests = [digest for _, block_digests in blocks for digest in block_digests]
    assert len(digests) == len(rows)
    assert all(d is not None and len(d) == 32 for d in digests)
    resumed = [
        row[0]
        async for block, _ in store.iterate_row_blocks(chain, "user", after="u04")
        for row in block
    ]
    assert resumed == ["u05", "u06", "u07", "u08", "u09"]
    # a chain whose newer segments are too many to hold merges every stream instead
    monkeypatch.setattr(snapshot_module, "_OVERRIDES_IN_MEMORY", 0)
    merged = [block async for block in store.iterate_row_blocks(chain, "user")]
    assert [row for block, _ in merged for row in block] == [
        row for block, _ in blocks for row in block
    ]
    assert [digest for _, leaves in merged for digest in leaves] == digests
    found = await store.get_entries(chain, "user", ["u03", "u09"], include_tombstones=True)
    assert found["u03"].tombstone
    assert found["u09"].version == "v9"


@pytest.mark.usefixtures("three_entries_a_chunk")
async def test_leaf_blocks_agree_with_the_rows_and_lookups_count_their_fetches_first(
    mongo: Mongo, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SnapshotStore(mongo, chunk_cache_bytes=0)
    base = Segment("s1", frozenset({"user"}))
    await store.put_entries("s1", [_entry("user", f"u{i:02d}", f"v{i}") for i in range(10)])
    changes = Segment("s2", frozenset())
    await store.put_entries(
        "s2",
        [_entry("user", "u03", None), _entry("user", "u05", "w5"), _entry("user", "u10", "v10")],
    )
    chain = [base, changes]

    async def leaves(after: str | None = None) -> tuple[list[str], bytes]:
        blocks = [b async for b in store.iterate_leaf_blocks(chain, "user", after=after)]
        return [i for b in blocks for i in b.ids], b"".join(bytes(b.leaves) for b in blocks)

    async def row_leaves(after: str | None = None) -> tuple[list[str], bytes]:
        blocks = [b async for b in store.iterate_row_blocks(chain, "user", after=after)]
        ids = [row[0] for rows, _ in blocks for row in rows]
        return ids, b"".join(d or b"" for _, digests in blocks for d in digests)

    ids, blob = await leaves()
    assert ids == [f"u{i:02d}" for i in range(11) if i != 3]
    assert (ids, blob) == await row_leaves()
    assert await leaves(after="u04") == await row_leaves(after="u04")
    counts = [b.counts.entries async for b in store.iterate_leaf_blocks(chain, "user")]
    assert sum(counts) == len(ids)
    monkeypatch.setattr(snapshot_module, "_OVERRIDES_IN_MEMORY", 0)
    assert await leaves() == (ids, blob)

    # what a lookup would fetch is known before it fetches: u00 and u01 share a chunk
    fetched = store.chunks.fetched
    assert await store.fetches_for(chain, "user", ["u00", "u01", "u07"]) == 3
    assert store.chunks.fetched == fetched


@pytest.mark.usefixtures("three_entries_a_chunk")
async def test_chunks_warmed_while_a_read_goes_on_are_fetched_once_for_its_lookups(
    mongo: Mongo,
) -> None:
    writer = SnapshotStore(mongo)
    await writer.put_entries("s1", [_entry("user", f"u{i:02d}", f"v{i}") for i in range(12)])
    chain = [Segment("s1", frozenset({"user"}))]
    wanted = ["u01", "u04", "u05", "u10"]  # in three of the four chunks

    store = SnapshotStore(mongo, chunk_cache_bytes=1024 * 1024)
    await store.warm(chain, "user", wanted)  # returns before the chunks arrive
    found = await store.get_entries(chain, "user", [*wanted, "u99"])
    await store.warm(chain, "user", wanted)  # held already: nothing more to fetch
    await asyncio.sleep(0.5)  # time for any fetch still under way to end

    assert {i: e.version for i, e in found.items()} == {i: f"v{int(i[1:])}" for i in wanted}
    assert store.chunks.fetched == 3
    await store.get_entries(chain, "user", wanted)
    assert store.chunks.fetched == 3


@pytest.mark.usefixtures("three_entries_a_chunk")
async def test_a_chains_chunk_headers_are_read_in_one_query_and_follow_later_writes(
    mongo: Mongo, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SnapshotStore(mongo)
    await writer.put_entries(
        "s1",
        [_entry("user", f"u{i:02d}", f"v{i}") for i in range(9)]
        + [_entry("group", f"g{i}", f"gv{i}") for i in range(3)],
    )
    chain = [Segment("s1", frozenset({"user", "group"}))]
    for number in range(2, 6):
        await writer.put_entries(f"s{number}", [_entry("user", f"u0{number}", f"w{number}")])
        chain.append(Segment(f"s{number}", frozenset()))
    store = SnapshotStore(mongo)
    headers = store.chunks._headers
    queries: list[object] = []
    find = headers._find

    async def counted(query: Any) -> Any:
        queries.append(query)
        return await find(query)

    monkeypatch.setattr(headers, "_find", counted)

    users = await store.get_entries(chain, "user", ["u01", "u03", "u07"])
    groups = await store.get_entries(chain, "group", ["g1"])
    assert await store.fetches_for(chain, "servicePrincipal", ["sp1"]) == 0

    assert {i: e.version for i, e in users.items()} == {"u01": "v1", "u03": "w3", "u07": "v7"}
    assert groups["g1"].version == "gv1"
    assert len(queries) == 5  # five segments, three types: one query a segment

    # the segment being written (a snapshot's own, sealed a type at a time)
    own = [*chain, Segment("s6", frozenset())]
    await store.put_entries("s6", [_entry("group", "g1", "late group")])
    assert (await store.get_entries(own, "group", ["g1"]))["g1"].version == "late group"
    await store.put_entries("s6", [_entry("user", "u02", "late user")])
    assert (await store.get_entries(own, "user", ["u02"]))["u02"].version == "late user"


async def test_packs_are_read_by_reference_and_by_hash(mongo: Mongo) -> None:
    store = SnapshotStore(mongo)
    builder = PackBuilder("snap-1", "group", tenant_id="t1")
    body = canonical_json({"id": "g1"})
    builder.add_version(version_hash({"id": "g1"}), body)
    members = ["u1", "u2"]
    builder.add_linkset(linkset_digest(members), members)
    where = await store.packs.insert(builder)
    assert await store.packs.insert(builder) == where  # a redelivery inserts nothing new
    digest = version_hash({"id": "g1"})
    pack = where[digest]
    assert (await store.packs.versions([(digest, pack)]))[digest] == body
    assert (await store.packs.versions([(digest, None)]))[digest] == body  # found by scan
    assert (await store.packs.linksets([(linkset_digest(members), pack)])) == {
        linkset_digest(members): members
    }
    assert await store.new_version_totals("snap-1") == (1, len(body) + 2 * 40)
    assert LINKSETS not in where.values()


async def test_staging_keeps_reading_order_and_splits_big_writes_by_bucket(mongo: Mongo) -> None:
    store = SnapshotStore(mongo)
    await store.ensure_indexes()
    small = [{"o": "b1", "k": "b"}, {"o": "a1", "k": "b"}]
    await store.staging.write("s1", "user", 0, 0, small)
    big = [{"o": f"{c}{i}", "k": "b"} for i in range(300) for c in "ab"]
    await store.staging.write("s1", "user", 0, 1, big)
    await store.staging.write("s1", "user", 1, 0, [{"o": "a9", "k": "g"}])
    assert await store.staging.buckets("s1", "user", 0) == ["a", "b"]
    bucket_a = await store.staging.records("s1", "user", 0, ["a"])
    assert [r["o"] for r in bucket_a][:2] == ["a1", "a0"]
    assert len(bucket_a) == 301
    assert all(r["o"].startswith("a") for r in bucket_a)


async def test_staging_splits_a_bucket_too_big_for_one_document_and_reads_it_back_whole(
    mongo: Mongo,
) -> None:
    store = SnapshotStore(mongo)
    await store.ensure_indexes()
    # bodies waiting for sealing ("x"): 6 MB of records, more than a staging document
    # may hold
    waiting = [{"o": f"a{i:03d}", "k": "b", "x": f"{i:03d}" * 20_000} for i in range(50)]
    waiting.insert(25, {"o": "b1", "k": "g"})
    await store.staging.write("s1", "user", 0, 0, waiting * 2)
    documents = await mongo.collection(Collection.MANIFEST_STAGING).find({"seg": "s1"}).to_list()
    assert len(documents) == 2, "the write is split in parts"
    assert all(len(bytes(d["e"])) < 4_100_000 for d in documents)
    bucket_a = await store.staging.records("s1", "user", 0, ["a"])
    assert [r["o"] for r in bucket_a] == [r["o"] for r in waiting * 2 if r["o"] != "b1"]
    assert bucket_a[49]["x"] == "049" * 20_000


async def test_the_api_reads_a_snapshot_record_once_a_while_and_holds_it_changes_at_once(
    mongo: Mongo,
) -> None:
    now = [0.0]
    api = SnapshotStore(mongo, cache_seconds=5, clock=lambda: now[0])
    other_api = SnapshotStore(mongo, cache_seconds=5, clock=lambda: now[0])
    first = await store_snapshot(api, "s-1", created_at=datetime(2026, 11, 1, tzinfo=UTC))
    second = await store_snapshot(api, "s-2", created_at=datetime(2026, 11, 2, tzinfo=UTC))
    assert await api.find("s-1") == first
    assert await api.expiry_inputs(TENANT) == (
        [SnapshotAge("s-1", first.created_at), SnapshotAge("s-2", second.created_at)],
        set(),
    )
    assert await other_api.expiry_inputs(TENANT) == (await api.expiry_inputs(TENANT))

    # retention removes s-1 while the API still trusts what it read
    await mongo.collection(Collection.SNAPSHOTS).delete_one({"_id": "s-1"})
    assert await api.find("s-1") == first
    await api.set_hold("s-2", by="admin", at=second.created_at, reason="incident")
    assert (await api.expiry_inputs(TENANT))[1] == {"s-2"}, "a hold placed here shows at once"
    assert (await other_api.expiry_inputs(TENANT))[1] == set(), "elsewhere within the time"

    now[0] = 5.1
    assert await api.find("s-1") is None
    assert await other_api.expiry_inputs(TENANT) == (
        [SnapshotAge("s-2", second.created_at)],
        {"s-2"},
    )
    await other_api.clear_hold("s-2")
    assert (await other_api.expiry_inputs(TENANT))[1] == set()
    assert await SnapshotStore(mongo).find("s-2") == second, "without a cache, always read"
