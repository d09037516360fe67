"""Folding staged records of one object read from several pages."""

from __future__ import annotations

import orjson

from rewind_common.domain.records import ObjectState
from rewind_common.storage.manifest import ManifestEntry
from rewind_common.storage.packs import linkset_digest
from rewind_common.storage.report_staging import (
    StagedObject,
    StagingBatch,
    _folded,
    entry_fingerprint,
    links_record,
    staged_record,
)

GROUP = "3ee3a9de-0a86-4e12-a287-9769accf1ba2"


def _group(members: tuple[str, ...], owners: tuple[str, ...] = ()) -> ObjectState:
    links = {"members": members} if members else {}
    if owners:
        links["owners"] = owners
    return ObjectState("group", GROUP, {"id": GROUP, "displayName": "SG"}, links=links)


def test_partial_links_of_a_first_delta_round_add_up() -> None:
    first = staged_record(_group(("a", "b"), ("o",)), partial_links=True)
    second = staged_record(_group(("c",)), partial_links=True)
    folded = StagedObject.from_record("group", _folded(_folded(None, first), second))
    assert folded.state().links == {"members": ("a", "b", "c"), "owners": ("o",)}


def test_a_complete_read_replaces_what_came_before() -> None:
    first = staged_record(_group(("a", "b")), partial_links=True)
    second = staged_record(_group(("c",)))
    folded = StagedObject.from_record("group", _folded(first, second))
    assert folded.state().links == {"members": ("c",)}


def test_a_staged_object_and_its_manifest_entry_share_a_fingerprint() -> None:
    staged = StagedObject.from_record("group", staged_record(_group(("b", "a"))))
    entry = ManifestEntry(
        type="group",
        object_id=GROUP,
        version=staged.version,
        links={"members": linkset_digest(["a", "b"])},
    )
    assert staged.fingerprint == entry_fingerprint(entry)
    empty = StagedObject.from_record("group", staged_record(_group(())))
    assert empty.fingerprint == entry_fingerprint(
        ManifestEntry(type="group", object_id=GROUP, version=staged.version)
    )


APP = "5f0c2b1e-8d4a-4c3e-9b7a-1e2d3c4b5a69"


def _app(*, deleted: bool = False) -> ObjectState:
    return ObjectState("application", APP, {"id": APP, "displayName": "App"}, deleted=deleted)


def test_links_read_apart_are_added_to_the_body_read_before_them() -> None:
    body = staged_record(_app(), partial_links=True)
    folded = _folded(_folded(None, body), links_record(APP, {"owners": ["u2", "u1"]}))
    staged = StagedObject.from_record("application", folded)
    assert staged.state().links == {"owners": ("u1", "u2")}
    assert staged.version == body["v"]


def test_links_alone_are_no_object_and_deleted_objects_keep_none() -> None:
    alone = _folded(None, links_record(APP, {"owners": ["u1"]}))
    assert alone.get("a")
    deleted = staged_record(_app(deleted=True))
    assert _folded(deleted, links_record(APP, {"owners": ["u1"]})) == deleted


def test_a_staging_batch_keeps_records_encoded_by_bucket_in_reading_order() -> None:
    batch = StagingBatch(width=1)
    batch.add(staged_record(_group(("a",))))
    batch.add(links_record(APP, {"owners": ["u1"]}))
    batch.add(staged_record(_group(("b",))))
    assert (batch.records, batch.objects) == (3, 2)
    (group_part,) = batch.buckets[GROUP[0]]
    records = orjson.loads(bytes(group_part + b"]"))
    assert [r["l"]["members"] for r in records] == [["a"], ["b"]]
