"""Snapshot records, manifest entries, deduplicated versions and link sets, staging and
legal holds against a real MongoDB server (reading manifests: ``test_manifest_chains``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rewind_common.domain.hashing import canonical_json, version_hash
from rewind_common.domain.retention import SnapshotAge
from rewind_common.storage import packs as packs_module
from rewind_common.storage import snapshots as snapshot_module
from rewind_common.storage.manifest import ManifestEntry
from rewind_common.storage.mongo import Collection, Mongo
from rewind_common.storage.packs import LINKSETS, PackBuilder, linkset_digest
from rewind_common.storage.snapshots import SnapshotStore, linkset_hash
from tests.integration.api.support import TENANT, store_snapshot


def _entry(type_name: str, object_id: str, version: str | None, **kw: object) -> ManifestEntry:
    return ManifestEntry(type=type_name, object_id=object_id, version=version, **kw)  # type: ignore[arg-type]


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
