"""Checkpoints survive JSON; the resumable Merkle pass builds the domain's tree."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rewind_common.domain.hashing import canonical_json
from rewind_common.domain.merkle import MerkleBuilder, SubtreeMemo, merkle_root
from rewind_common.storage.manifest import (
    ManifestEntry,
    chunk_document,
    chunk_entries,
    row_leaf_digest,
    row_leaf_digests,
)
from rewind_snapshotter.manifest_pass import ResumableMerkle
from rewind_snapshotter.snapshot.seal_phase import SEAL_UNIT, seal_units
from rewind_snapshotter.snapshot.state import MerkleProgress, SnapshotState, TypeProgress


def test_a_checkpoint_round_trips_through_json() -> None:
    state = SnapshotState(
        snapshot_id="s1",
        mode="full",
        base_id=None,
        base_root=None,
        base_chain=[],
        base_delta_links={},
        expected_objects=0,
        types={"user": TypeProgress("user", "deltaFirst", full=True, cursor="https://x")},
        merkle=MerkleProgress(stack=[(2, "ab" * 32)], counts={"user": 3}),
        packs=["p1"],
    )
    state.types["user"].sealed_buckets.append("a")
    restored = SnapshotState.from_json(json.loads(json.dumps(state.to_json())))
    assert restored == state


@given(st.lists(st.binary(max_size=8), max_size=40), st.integers(min_value=0, max_value=40))
def test_leaves_added_hashed_and_resumed_build_the_same_root(leaves: list[bytes], cut: int) -> None:
    first = ResumableMerkle()
    for data in leaves[:cut]:
        first.add(data)
    resumed = ResumableMerkle()
    resumed.restore(first.state(), first.count)
    for data in leaves[cut:]:
        resumed.add_leaf(_leaf(data))
    reference = MerkleBuilder()
    for data in leaves:
        reference.add(data)
    assert resumed.root == reference.root == merkle_root(leaves)


@given(
    st.integers(min_value=0, max_value=300),
    st.lists(st.integers(min_value=1, max_value=70), min_size=1, max_size=12),
)
def test_leaves_added_in_batches_of_any_size_build_the_same_root(
    total: int, batch_sizes: list[int]
) -> None:
    """Batches land on and off the boundaries of complete subtrees (a chunk holds 500
    leaves, a stored block any number)."""
    leaves = [index.to_bytes(2, "big") for index in range(total)]
    digests = [_leaf(data) for data in leaves]
    builder = ResumableMerkle()
    start, turn = 0, 0
    while start < total:
        size = batch_sizes[turn % len(batch_sizes)]
        batch = digests[start : start + size]
        if turn % 2:
            builder.add_leaf_blob(b"".join(batch))
        else:
            builder.add_leaves(batch)
        start, turn = start + size, turn + 1
    assert builder.count == total
    assert builder.root == merkle_root(leaves)


@given(
    st.integers(min_value=0, max_value=400),
    st.sets(st.integers(min_value=0, max_value=399), max_size=20),
    st.sampled_from([1, 3, 8, 1 << 16]),
)
def test_a_memo_of_subtrees_changes_no_root(total: int, changed: set[int], capacity: int) -> None:
    """The next snapshot hashes its changed leaves through the windows the last one left
    in the memo (a small memo empties itself as it fills): the roots stay the tree's."""
    memo = SubtreeMemo(max_windows=capacity)
    before = [index.to_bytes(2, "big") for index in range(total)]
    after = [b"new" + data if index in changed else data for index, data in enumerate(before)]
    for leaves in (before, after):
        builder = ResumableMerkle(memo)
        builder.add_leaves([_leaf(data) for data in leaves])
        assert builder.root == merkle_root(leaves)
        assert len(memo) <= capacity


def test_windows_left_unchanged_are_not_hashed_again() -> None:
    memo = SubtreeMemo()
    leaves = [index.to_bytes(2, "big") for index in range(256)]
    ResumableMerkle(memo).add_leaves([_leaf(data) for data in leaves])
    leaves[100] = b"changed"

    builder = ResumableMerkle(memo)
    builder.add_leaves([_leaf(data) for data in leaves])

    assert builder.root == merkle_root(leaves)
    assert memo.hits == 256 // SubtreeMemo.WINDOW - 1


def _leaf(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(b"\x00" + data).digest()


NAMES = st.none() | st.text(max_size=5) | st.sampled_from(["Zoë", "\u2028", 'a"b'])


#: Link names are the registry's; a name beyond ASCII takes the reference path.
LINK_NAMES = st.sampled_from(["members", "owners", "manager", "mémbers", "Owners"])


#: Volatile properties as Graph returns them: timestamps, sign-in activity (an object),
#: now and then a value only the reference writes (a float, a key beyond ASCII).
VOLATILE = st.dictionaries(
    st.sampled_from(["createdDateTime", "signInActivity", "lastPasswordChangeDateTime", "é"]),
    st.none()
    | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.fixed_dictionaries({"lastSignInDateTime": st.text(max_size=8)}),
)


@given(NAMES, st.booleans(), st.dictionaries(LINK_NAMES, NAMES), VOLATILE)
def test_an_entrys_leaf_is_its_canonical_json_and_survives_a_chunk(
    name: str | None, deleted: bool, links: dict[str, str | None], volatile: dict[str, Any]
) -> None:
    """The leaf of an entry without volatile properties is what it was before they were
    kept (earlier snapshots still verify); with them, they are its seventh element."""
    entry = ManifestEntry(
        type="group",
        object_id="g1",
        version="v" * 64,
        deleted=deleted,
        display_name=name,
        links=links,
        pack="p1",
        link_packs={"members": "p2"},
        link_sizes={"members": 3},
        volatile=volatile,
    )
    content = ["group", "g1", "v" * 64, deleted, name, dict(sorted(links.items()))]
    expected = canonical_json([*content, volatile] if volatile else content)
    assert entry.leaf() == expected
    document = chunk_document("s1", "group", [entry.to_row()], [entry.leaf_digest()])
    assert chunk_entries(document) == [entry]
    assert row_leaf_digest("group", entry.to_row()) == entry.leaf_digest()
    # sealing's way, a chunk's rows at once, and a row whose links are not the type's
    odd = [*entry.to_row()[:5], {"ключ": "x", **links}, *entry.to_row()[6:]]
    assert row_leaf_digests("group", [entry.to_row(), odd]) == [
        entry.leaf_digest(),
        row_leaf_digest("group", odd),
    ]


def test_small_types_seal_in_one_unit_big_ones_bucket_by_bucket() -> None:
    assert seal_units(["0", "a"], 10) == [["0", "a"]]
    assert seal_units(["0", "a"], 10**6) == [["0"], ["a"]]
    assert seal_units([], 0) == []


def test_a_unit_holds_about_seal_unit_records_whatever_the_type() -> None:
    buckets = list("0123456789abcdef")
    # 12,000 groups: three units of about 4,500, not one of 12,000
    units = seal_units(buckets, 12_000)
    assert [len(unit) for unit in units] == [6, 6, 4]
    assert [bucket for unit in units for bucket in unit] == buckets
    assert all(len(unit) * 12_000 / len(buckets) <= SEAL_UNIT for unit in units)
    # 80,000 users: a bucket at a time
    assert seal_units(buckets, 80_000) == [[bucket] for bucket in buckets]
