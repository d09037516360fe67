"""Manifest chains, deduplicated versions and link sets against a real MongoDB server."""

from __future__ import annotations

import pytest

from rewind_common.domain.hashing import canonical_json, version_hash
from rewind_common.storage import snapshots as snapshot_module
from rewind_common.storage.manifest import ManifestEntry, Segment
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.snapshots import SnapshotStore, linkset_hash


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
    store = SnapshotStore(mongo)
    ids = [f"m{i}" for i in range(8)]
    digest = await store.put_linkset(list(reversed(ids)))
    assert digest == linkset_hash(ids)
    assert await store.get_linkset(digest) == sorted(ids)
    assert await store.put_linkset(ids) == digest
