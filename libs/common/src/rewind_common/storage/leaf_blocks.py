"""A manifest as its Merkle pass reads it: runs of entries in id order, each as its
ids, its Merkle leaves end to end and what it adds to the counts, without the entries.

A chunk whose writer stored its ids, leaves and counts (``manifest.chunk_document``) is
read without decoding a row. An incremental snapshot's changed entries are laid over
the chunks of the segment below them, decoding only the rows they replace. Chunks
written without them, and the first chunk of a pass resumed inside it, are read row by
row: slower, with the same result.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from rewind_common.storage.chunks import LoadedChunk
from rewind_common.storage.manifest import RowCounts, row_leaf_digest

Row = list[Any]
_LEAF = 32
_ROW_ID = itemgetter(0)


@dataclass
class LeafBlock:
    """Entries of one type in id order: their ids, their Merkle leaves (32 bytes each,
    in the same order) and what they add to the snapshot's counts."""

    type: str
    ids: list[str]
    leaves: bytearray
    counts: RowCounts

    @classmethod
    def of_rows(
        cls, type_name: str, rows: Sequence[Row], digests: Sequence[bytes | None]
    ) -> LeafBlock:
        """A block of stored rows; a missing leaf is computed from its row."""
        leaves = bytearray()
        for row, digest in zip(rows, digests, strict=True):
            leaves += digest if digest is not None else row_leaf_digest(type_name, row)
        return cls(type_name, [row[0] for row in rows], leaves, RowCounts.of_rows(type_name, rows))


def chunk_block(chunk: LoadedChunk, after: str | None = None) -> LeafBlock:
    """The entries of a chunk with ids above ``after``."""
    ids, leaves, counts = chunk.ids(), chunk.leaves(), chunk.counts()
    if (
        ids is not None
        and leaves is not None
        and counts is not None
        and len(leaves) == _LEAF * len(ids)
        and (after is None or ids[0] > after)
    ):
        return LeafBlock(chunk.type, ids, bytearray(leaves), counts)
    rows = chunk.rows()
    stored = chunk.digests()
    digests: list[bytes | None] = list(stored) if stored else [None] * len(rows)
    if after is not None:
        first = bisect.bisect_right(rows, after, key=_ROW_ID)
        rows, digests = rows[first:], digests[first:]
    live = [index for index, row in enumerate(rows) if row[1] is not None]
    return LeafBlock.of_rows(chunk.type, [rows[i] for i in live], [digests[i] for i in live])


def lay_over(
    block: LeafBlock,
    chunk: LoadedChunk | None,
    overrides: Mapping[str, tuple[Row, bytes | None]],
    override_ids: Sequence[str],
) -> None:
    """Lay a newer segment's rows (``override_ids``, sorted) over a block read from
    ``chunk``: a row replaces the entry of its id or goes in at its place, a tombstone
    takes the entry out. The counts follow, from the rows replaced (decoded from the
    chunk, only those) and the rows laid."""
    ids, leaves, counts = block.ids, block.leaves, block.counts
    replaced = [object_id for object_id in override_ids if _holds(ids, object_id)]
    old_rows = _rows_of(chunk, replaced) if replaced else {}
    for object_id in override_ids:
        row, digest = overrides[object_id]
        at = bisect.bisect_left(ids, object_id)
        if at < len(ids) and ids[at] == object_id:
            counts.add_row(block.type, old_rows[object_id], -1)
            if row[1] is None:
                del ids[at]
                del leaves[_LEAF * at : _LEAF * (at + 1)]
                continue
            leaves[_LEAF * at : _LEAF * (at + 1)] = digest or row_leaf_digest(block.type, row)
        else:
            if row[1] is None:
                continue  # a tombstone of an object the block does not have
            ids.insert(at, object_id)
            leaves[_LEAF * at : _LEAF * at] = digest or row_leaf_digest(block.type, row)
        counts.add_row(block.type, row)


def _holds(ids: list[str], object_id: str) -> bool:
    at = bisect.bisect_left(ids, object_id)
    return at < len(ids) and ids[at] == object_id


def _rows_of(chunk: LoadedChunk | None, object_ids: list[str]) -> dict[str, Row]:
    if chunk is None:
        raise ValueError("entries to replace in a block that no chunk holds")
    wanted = set(object_ids)
    found = {row[0]: row for row in chunk.find(wanted)}
    if wanted - found.keys():
        found = {row[0]: row for row in chunk.rows() if row[0] in wanted}
    missing = wanted - found.keys()
    if missing:
        raise ValueError(f"chunk {chunk.document.get('_id')} lacks entries {sorted(missing)}")
    return found
