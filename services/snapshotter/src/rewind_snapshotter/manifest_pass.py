"""One streaming pass over a snapshot's whole manifest (the fold of its chain): its
Merkle root and its counts, resumable between steps.

Types go in registry order, objects in id order: the order ``domain.merkle`` hashes
leaves in, which verification repeats. The builder's state is a handful of subtree
hashes, so a pass over any manifest saves in a few hundred bytes and resumes after the
last object it counted.

A snapshot's own pass uses the leaf each chunk's writer stored next to its entries, so
an incremental snapshot hashes the unchanged part of its manifest without rebuilding
it; verification (``recompute=True``) rebuilds every leaf from the entry it describes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from rewind_common.domain.merkle import MerkleBuilder, SubtreeMemo, subtree_root
from rewind_common.registry import ALL_TYPES
from rewind_common.storage.manifest import ManifestEntry, RowCounts, Segment
from rewind_common.storage.snapshots import SnapshotStore
from rewind_snapshotter.snapshot.state import MerkleProgress

#: Entries handed to ``on_batch`` at a time; the clock is looked at between batches.
BATCH = 2000

BatchHook = Callable[[list[ManifestEntry]], Awaitable[None]]


#: Subtree roots this process has hashed, for the next snapshot of the same tenant.
_MEMO = SubtreeMemo()


class ResumableMerkle(MerkleBuilder):
    """``MerkleBuilder`` whose state can be saved and restored, and which takes leaves
    already hashed. Complete subtrees of ``SubtreeMemo.WINDOW`` leaves or more go
    through ``memo`` (the process's unless told otherwise; None hashes everything)."""

    def __init__(self, memo: SubtreeMemo | None = _MEMO) -> None:
        super().__init__()
        self._memo = memo

    def state(self) -> list[tuple[int, str]]:
        return [(height, digest.hex()) for height, digest in self._stack]

    def restore(self, stack: list[tuple[int, str]], count: int) -> None:
        self._stack = [(height, bytes.fromhex(digest)) for height, digest in stack]
        self.count = count

    def add_leaf(self, digest: bytes) -> None:
        """``add`` for a leaf whose hash (``H(0x00 || data)``) is known."""
        self.add_leaf_blob(digest)

    def add_leaves(self, digests: Sequence[bytes]) -> None:
        """``add_leaf`` for each of ``digests``, in order."""
        self.add_leaf_blob(b"".join(digests))

    def add_leaf_blob(self, leaves: bytes) -> None:
        """``add_leaf`` for each 32 bytes of ``leaves``, in order.

        Leaves arriving where a complete subtree starts (the count a multiple of its
        size) are hashed as that subtree, a level at a time, which costs Python less per
        node than pushing them one by one; the tree is the same."""
        stack = self._stack
        sha256 = hashlib.sha256
        memo = self._memo
        window = SubtreeMemo.WINDOW
        count = self.count
        start, end = 0, len(leaves) // 32
        while start < end:
            size = count & -count or 1 << (end - start).bit_length()
            while size > end - start:
                size >>= 1
            subtree = leaves[32 * start : 32 * (start + size)]
            if memo is not None and size >= window:
                digest = memo.subtree_root(subtree)
            else:
                digest = subtree_root(subtree)
            height = size.bit_length() - 1
            while stack and stack[-1][0] == height:
                digest = sha256(b"\x01" + stack.pop()[1] + digest).digest()
                height += 1
            stack.append((height, digest))
            count += size
            start += size
        self.count = count


def count_rows(progress: MerkleProgress, type_name: str, rows: list[list[Any]]) -> None:
    """Count entries (as their stored rows) into the snapshot's counts."""
    _count(progress, type_name, RowCounts.of_rows(type_name, rows))


def _count(progress: MerkleProgress, type_name: str, counts: RowCounts) -> None:
    progress.counts[type_name] = progress.counts.get(type_name, 0) + counts.entries
    if counts.deleted:
        progress.deleted_counts[type_name] = (
            progress.deleted_counts.get(type_name, 0) + counts.deleted
        )
    link_counts = progress.link_counts
    for name, size in counts.links.items():
        if size:
            link_counts[name] = link_counts.get(name, 0) + size


def fold_sealed(
    progress: MerkleProgress, type_name: str, rows: list[list[Any]], digests: list[bytes]
) -> None:
    """Count rows just sealed into the pass, when they are the next entries it needs
    (the caller checks that), without reading them back: what the pass would do with
    them (``_done``)."""
    if not rows:
        return
    builder = ResumableMerkle()
    builder.restore(progress.stack, progress.count)
    builder.add_leaves(digests)
    count_rows(progress, type_name, rows)
    progress.after = rows[-1][0]
    progress.stack, progress.count = builder.state(), builder.count


async def manifest_pass(
    store: SnapshotStore,
    chain: list[Segment],
    progress: MerkleProgress,
    out_of_time: Callable[[], bool],
    on_batch: BatchHook | None = None,
    *,
    recompute: bool = False,
    ready: Callable[[str], bool] | None = None,
) -> str | None:
    """Advance the pass; the manifest root once every type is done, None when time ran
    out first (``progress`` then says where to resume). ``on_batch`` sees every entry,
    a batch at a time, before the batch counts as done. With ``ready``, the pass also
    stops before a type that is not ready yet (a snapshot hashes types while it still
    reads others)."""
    # verification hashes every node itself: its answer owes nothing to this process
    builder = ResumableMerkle(None if recompute else _MEMO)
    builder.restore(progress.stack, progress.count)
    types = [object_type.name for object_type in ALL_TYPES]
    while progress.type_index < len(types):
        type_name = types[progress.type_index]
        if ready is not None and not ready(type_name):
            return None
        if on_batch is None and not recompute:
            if not await _hash_leaf_blocks(store, chain, type_name, builder, progress, out_of_time):
                return None
            progress.type_index += 1
            progress.after = None
            continue
        stream = store.manifests.iterate_row_blocks(chain, type_name, after=progress.after)
        rows: list[list[Any]] = []
        digests: list[bytes | None] = []
        try:
            async for block_rows, block_digests in stream:
                rows += block_rows
                digests += block_digests
                if len(rows) >= BATCH:
                    await _done(builder, progress, type_name, rows, digests, on_batch, recompute)
                    rows, digests = [], []
                    if out_of_time():
                        return None
        finally:
            await stream.aclose()
        await _done(builder, progress, type_name, rows, digests, on_batch, recompute)
        progress.type_index += 1
        progress.after = None
    return builder.root


async def _hash_leaf_blocks(
    store: SnapshotStore,
    chain: list[Segment],
    type_name: str,
    builder: ResumableMerkle,
    progress: MerkleProgress,
    out_of_time: Callable[[], bool],
) -> bool:
    """A type's entries from their stored leaves and counts, without the entries
    themselves; False when time ran out first."""
    stream = store.manifests.iterate_leaf_blocks(chain, type_name, after=progress.after)
    taken = 0
    try:
        async for block in stream:
            builder.add_leaf_blob(bytes(block.leaves))
            _count(progress, type_name, block.counts)
            progress.after = block.ids[-1]
            progress.stack, progress.count = builder.state(), builder.count
            taken += len(block.ids)
            if taken >= BATCH:
                taken = 0
                if out_of_time():
                    return False
    finally:
        await stream.aclose()
    return True


async def _done(
    builder: ResumableMerkle,
    progress: MerkleProgress,
    type_name: str,
    rows: list[list[Any]],
    digests: list[bytes | None],
    on_batch: BatchHook | None,
    recompute: bool,
) -> None:
    if not rows:
        return
    entries: list[ManifestEntry] | None = None
    if on_batch is not None or recompute:
        entries = [ManifestEntry.from_row(type_name, row) for row in rows]
    if on_batch is not None and entries is not None:
        await on_batch(entries)
    leaves: list[bytes]
    if recompute or None in digests:
        entries = entries or [ManifestEntry.from_row(type_name, row) for row in rows]
        leaves = [
            entry.leaf_digest() if recompute or digest is None else digest
            for entry, digest in zip(entries, digests, strict=True)
        ]
    else:
        leaves = cast("list[bytes]", digests)
    builder.add_leaves(leaves)
    count_rows(progress, type_name, rows)
    progress.after = rows[-1][0]
    progress.stack, progress.count = builder.state(), builder.count
