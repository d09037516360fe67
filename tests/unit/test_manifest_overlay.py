"""Laying a newer segment's rows over an older one's block, as a pass over a manifest
chain does."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rewind_common.storage.merge import overlay

IDS = st.sets(st.sampled_from([f"u{i:02d}" for i in range(30)]), max_size=30)


def _row(object_id: str, version: str | None) -> list[Any]:
    return [object_id, version, None, False, None, None, None, None]


@given(IDS, st.dictionaries(st.sampled_from([f"u{i:02d}" for i in range(30)]), st.booleans()))
def test_a_block_with_overrides_is_the_newest_entry_of_each_id_without_tombstones(
    base_ids: set[str], overriding: dict[str, bool]
) -> None:
    base = [_row(object_id, "old") for object_id in sorted(base_ids)]
    digests: list[bytes | None] = [object_id.encode() for object_id in sorted(base_ids)]
    # a newer row replaces the older one, or is a tombstone (deleted since)
    overrides = {
        object_id: (_row(object_id, None if gone else "new"), b"new:" + object_id.encode())
        for object_id, gone in overriding.items()
    }
    rows, leaves = overlay(base, digests, overrides, sorted(overrides))

    expected = {object_id: ("old", object_id.encode()) for object_id in base_ids}
    for object_id, gone in overriding.items():
        if gone:
            expected.pop(object_id, None)
        else:
            expected[object_id] = ("new", b"new:" + object_id.encode())
    assert [row[0] for row in rows] == sorted(expected)
    assert [(row[1], leaf) for row, leaf in zip(rows, leaves, strict=True)] == [
        expected[object_id] for object_id in sorted(expected)
    ]
    assert base == [_row(object_id, "old") for object_id in sorted(base_ids)]  # untouched
