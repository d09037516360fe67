"""Reading manifests through chains of segments (``storage.chains``) against a real
MongoDB server: the newest segment's entry wins, streams come in id order, lookups fetch
only the chunks they need."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rewind_common.storage import chains as chains_module
from rewind_common.storage import chunks as chunks_module
from rewind_common.storage import manifest as manifest_module
from rewind_common.storage.manifest import ManifestEntry, Segment
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.snapshots import SnapshotStore


@pytest.fixture
def three_entries_a_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of three entries: a handful of objects spans several."""
    monkeypatch.setattr(chunks_module, "CHUNK_ENTRIES", 3)
    monkeypatch.setattr(manifest_module, "CHUNK_ENTRIES", 3)


def _entry(type_name: str, object_id: str, version: str | None, **kw: object) -> ManifestEntry:
    return ManifestEntry(type=type_name, object_id=object_id, version=version, **kw)  # type: ignore[arg-type]


async def _ids(store: SnapshotStore, chain: list[Segment], type_name: str) -> dict[str, str]:
    return {
        e.object_id: str(e.version) async for e in store.manifests.iterate_type(chain, type_name)
    }


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

    found = await store.manifests.get_entries([base, second], "user", ["u1", "u3", "u4", "nope"])
    assert {k: v.version for k, v in found.items()} == {"u1": "v1b", "u4": "v4"}

    after = [
        e.object_id async for e in store.manifests.iterate_type([base, second], "user", after="u2")
    ]
    assert after == ["u4", "u9"]


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
    ids = [
        e.object_id
        async for e in store.manifests.iterate_type(chain, "user", after="u01", before="u07")
    ]
    assert ids == ["u02", "u04", "u05", "u06"]
    blocks = [block async for block in store.manifests.iterate_row_blocks(chain, "user")]
    rows = [(row[0], row[1]) for block_rows, _ in blocks for row in block_rows]
    assert rows == [(f"u{i:02d}", "w5" if i == 5 else f"v{i}") for i in range(10) if i != 3]
    digests = [digest for _, block_digests in blocks for digest in block_digests]
    assert len(digests) == len(rows)
    assert all(d is not None and len(d) == 32 for d in digests)
    resumed = [
        row[0]
        async for block, _ in store.manifests.iterate_row_blocks(chain, "user", after="u04")
        for row in block
    ]
    assert resumed == ["u05", "u06", "u07", "u08", "u09"]
    # a chain whose newer segments are too many to hold merges every stream instead
    monkeypatch.setattr(chains_module, "_OVERRIDES_IN_MEMORY", 0)
    merged = [block async for block in store.manifests.iterate_row_blocks(chain, "user")]
    assert [row for block, _ in merged for row in block] == [
        row for block, _ in blocks for row in block
    ]
    assert [digest for _, leaves in merged for digest in leaves] == digests
    found = await store.manifests.get_entries(
        chain, "user", ["u03", "u09"], include_tombstones=True
    )
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
        blocks = [b async for b in store.manifests.iterate_leaf_blocks(chain, "user", after=after)]
        return [i for b in blocks for i in b.ids], b"".join(bytes(b.leaves) for b in blocks)

    async def row_leaves(after: str | None = None) -> tuple[list[str], bytes]:
        blocks = [b async for b in store.manifests.iterate_row_blocks(chain, "user", after=after)]
        ids = [row[0] for rows, _ in blocks for row in rows]
        return ids, b"".join(d or b"" for _, digests in blocks for d in digests)

    ids, blob = await leaves()
    assert ids == [f"u{i:02d}" for i in range(11) if i != 3]
    assert (ids, blob) == await row_leaves()
    assert await leaves(after="u04") == await row_leaves(after="u04")
    counts = [b.counts.entries async for b in store.manifests.iterate_leaf_blocks(chain, "user")]
    assert sum(counts) == len(ids)
    monkeypatch.setattr(chains_module, "_OVERRIDES_IN_MEMORY", 0)
    assert await leaves() == (ids, blob)

    # what a lookup would fetch is known before it fetches: u00 and u01 share a chunk
    fetched = store.chunks.fetched
    assert await store.manifests.fetches_for(chain, "user", ["u00", "u01", "u07"]) == 3
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
    await store.manifests.warm(chain, "user", wanted)  # returns before the chunks arrive
    found = await store.manifests.get_entries(chain, "user", [*wanted, "u99"])
    await store.manifests.warm(chain, "user", wanted)  # held already: nothing more to fetch
    await asyncio.sleep(0.5)  # time for any fetch still under way to end

    assert {i: e.version for i, e in found.items()} == {i: f"v{int(i[1:])}" for i in wanted}
    assert store.chunks.fetched == 3
    await store.manifests.get_entries(chain, "user", wanted)
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

    users = await store.manifests.get_entries(chain, "user", ["u01", "u03", "u07"])
    groups = await store.manifests.get_entries(chain, "group", ["g1"])
    assert await store.manifests.fetches_for(chain, "servicePrincipal", ["sp1"]) == 0

    assert {i: e.version for i, e in users.items()} == {"u01": "v1", "u03": "w3", "u07": "v7"}
    assert groups["g1"].version == "gv1"
    assert len(queries) == 5  # five segments, three types: one query a segment

    # the segment being written (a snapshot's own, sealed a type at a time)
    own = [*chain, Segment("s6", frozenset())]
    await store.put_entries("s6", [_entry("group", "g1", "late group")])
    assert (await store.manifests.get_entries(own, "group", ["g1"]))["g1"].version == "late group"
    await store.put_entries("s6", [_entry("user", "u02", "late user")])
    assert (await store.manifests.get_entries(own, "user", ["u02"]))["u02"].version == "late user"
