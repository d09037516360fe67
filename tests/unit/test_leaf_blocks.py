"""The Merkle pass's view of a manifest: ids, leaves and counts read from what a chunk's
writer stored, and changed entries laid over them, agree with rebuilding every entry."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rewind_common.storage.chunks import LoadedChunk
from rewind_common.storage.leaf_blocks import LeafBlock, chunk_block, lay_over
from rewind_common.storage.manifest import RowCounts, chunk_document, row_leaf_digest
from rewind_common.storage.merge import overlay

Row = list[Any]


def _row(object_id: str, version: str | None, *, deleted: bool = False, members: int = 0) -> Row:
    if version is None:
        return [object_id, None, None, False, None, None, None, None]
    links = {"members": f"set-{object_id}-{members}"} if members and not deleted else None
    sizes = {"members": members} if links else None
    return [object_id, version, "pack", deleted, f"Group {object_id}", links, None, sizes]


def _chunk(rows: list[Row]) -> LoadedChunk:
    digests = [row_leaf_digest("group", row) for row in rows]
    document = chunk_document("s1", "group", rows, digests)
    # as the driver returns binary fields
    for name in ("e", "lh", "ids"):
        if name in document:
            document[name] = bytes(document[name])
    return LoadedChunk("group", document)


def _reference(rows: list[Row]) -> LeafBlock:
    live = [row for row in rows if row[1] is not None]
    return LeafBlock.of_rows("group", live, [None] * len(live))


def _same(block: LeafBlock, expected: LeafBlock) -> None:
    assert block.ids == expected.ids
    assert bytes(block.leaves) == bytes(expected.leaves)
    assert block.counts == expected.counts


def test_a_chunk_is_read_from_its_stored_ids_leaves_and_counts() -> None:
    rows = [_row(f"g{i:02d}", f"v{i}", deleted=i == 3, members=i) for i in range(8)]
    chunk = _chunk(rows)
    assert chunk.ids() is not None
    assert chunk.counts() is not None

    block = chunk_block(chunk)

    _same(block, _reference(rows))
    assert block.counts == RowCounts(entries=8, deleted=1, links={"members": 1 + 2 + 4 + 5 + 6 + 7})


def test_a_pass_resumed_inside_a_chunk_reads_what_follows() -> None:
    rows = [_row(f"g{i:02d}", f"v{i}", members=i) for i in range(8)]

    block = chunk_block(_chunk(rows), after="g04")

    _same(block, _reference(rows[5:]))


def test_a_chunk_holding_tombstones_is_read_row_by_row() -> None:
    rows = [_row("g01", "v1", members=2), _row("g02", None), _row("g03", "v3")]
    chunk = _chunk(rows)
    assert chunk.ids() is None
    assert chunk.counts() is None

    _same(chunk_block(chunk), _reference(rows))


_IDS = [f"g{i:02d}" for i in range(30)]


@st.composite
def _manifests(draw: st.DrawFn) -> tuple[list[Row], dict[str, Row]]:
    base_ids = sorted(draw(st.sets(st.sampled_from(_IDS), min_size=1)))
    base = [
        _row(i, f"v-{i}", deleted=draw(st.booleans()), members=draw(st.integers(0, 3)))
        for i in base_ids
    ]
    changed = draw(st.sets(st.sampled_from(_IDS)))
    newer = {}
    for object_id in sorted(changed):
        gone = draw(st.booleans())
        newer[object_id] = _row(
            object_id,
            None if gone else f"w-{object_id}",
            deleted=draw(st.booleans()),
            members=draw(st.integers(0, 3)),
        )
    return base, newer


@given(_manifests())
def test_changes_laid_over_a_chunk_give_what_rebuilding_the_merged_entries_gives(
    manifest: tuple[list[Row], dict[str, Row]],
) -> None:
    base, newer = manifest
    chunk = _chunk(base)
    overrides = {i: (row, row_leaf_digest("group", row)) for i, row in newer.items()}
    ordered = sorted(overrides)

    block = chunk_block(chunk)
    lay_over(block, chunk, overrides, ordered)

    merged, _ = overlay(base, [None] * len(base), overrides, ordered)
    _same(block, _reference(merged))


@given(
    st.sampled_from(["user", "group"]),
    st.lists(
        st.tuples(st.booleans(), st.booleans(), st.integers(min_value=0, max_value=3)),
        max_size=12,
    ),
)
def test_counts_added_a_row_at_a_time_are_the_counts_of_the_rows(
    type_name: str, shapes: list[tuple[bool, bool, int]]
) -> None:
    # a user's manager is single-valued, a group's members many-valued
    rows: list[Row] = []
    for number, (deleted, managed, members) in enumerate(shapes):
        links = {"manager": "m"} if managed and type_name == "user" else None
        sizes = {"members": members} if members and type_name == "group" else None
        rows.append([f"o{number}", "v", "pack", deleted, None, links, None, sizes])
    counts = RowCounts()
    for row in rows:
        counts.add_row(type_name, row)
        counts.add_row(type_name, row, -1)
        counts.add_row(type_name, row)

    assert counts == RowCounts.of_rows(type_name, rows)
