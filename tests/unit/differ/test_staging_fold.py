"""Folding staged records of one object read from several pages."""

from __future__ import annotations

from rewind_common.domain.records import ObjectState
from rewind_common.storage.manifest import ManifestEntry
from rewind_common.storage.packs import linkset_digest
from rewind_common.storage.report_staging import (
    StagedObject,
    _folded,
    entry_fingerprint,
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
