"""One streaming pass over a snapshot's whole manifest (the fold of its chain): its
Merkle root and its counts, resumable between steps.

Types go in registry order, objects in id order: the order ``domain.merkle`` hashes
leaves in, which verification repeats. The builder's state is a handful of subtree
hashes, so a pass over any manifest saves in a few hundred bytes and resumes after the
last object it counted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rewind_common.domain.merkle import MerkleBuilder
from rewind_common.registry import ALL_TYPES, get_type
from rewind_common.storage.manifest import ManifestEntry, Segment
from rewind_common.storage.snapshots import SnapshotStore
from rewind_snapshotter.snapshot.state import MerkleProgress

#: Entries handed to ``on_batch`` at a time; the clock is looked at between batches.
BATCH = 500

BatchHook = Callable[[list[ManifestEntry]], Awaitable[None]]


class ResumableMerkle(MerkleBuilder):
    """``MerkleBuilder`` whose state can be saved and restored."""

    def state(self) -> list[tuple[int, str]]:
        return [(height, digest.hex()) for height, digest in self._stack]

    def restore(self, stack: list[tuple[int, str]], count: int) -> None:
        self._stack = [(height, bytes.fromhex(digest)) for height, digest in stack]
        self.count = count


def count_entry(progress: MerkleProgress, entry: ManifestEntry) -> None:
    progress.counts[entry.type] = progress.counts.get(entry.type, 0) + 1
    if entry.deleted:
        progress.deleted_counts[entry.type] = progress.deleted_counts.get(entry.type, 0) + 1
    object_type = get_type(entry.type)
    for link in object_type.links:
        if link.many:
            size = entry.link_sizes.get(link.name, 0)
        else:
            size = 1 if entry.links.get(link.name) else 0
        if size:
            progress.link_counts[link.name] = progress.link_counts.get(link.name, 0) + size


async def manifest_pass(
    store: SnapshotStore,
    chain: list[Segment],
    progress: MerkleProgress,
    out_of_time: Callable[[], bool],
    on_batch: BatchHook | None = None,
) -> str | None:
    """Advance the pass; the manifest root once every type is done, None when time ran
    out first (``progress`` then says where to resume). ``on_batch`` sees every entry,
    a batch at a time, before the batch counts as done."""
    builder = ResumableMerkle()
    builder.restore(progress.stack, progress.count)
    types = [object_type.name for object_type in ALL_TYPES]
    while progress.type_index < len(types):
        type_name = types[progress.type_index]
        stream = store.iterate_type(chain, type_name, after=progress.after)
        batch: list[ManifestEntry] = []
        try:
            async for entry in stream:
                batch.append(entry)
                if len(batch) >= BATCH:
                    await _done(builder, progress, batch, on_batch)
                    batch = []
                    if out_of_time():
                        return None
        finally:
            await stream.aclose()
        await _done(builder, progress, batch, on_batch)
        progress.type_index += 1
        progress.after = None
    return builder.root


async def _done(
    builder: ResumableMerkle,
    progress: MerkleProgress,
    batch: list[ManifestEntry],
    on_batch: BatchHook | None,
) -> None:
    if not batch:
        return
    if on_batch is not None:
        await on_batch(batch)
    for entry in batch:
        builder.add(entry.leaf())
        count_entry(progress, entry)
    progress.after = batch[-1].object_id
    progress.stack, progress.count = builder.state(), builder.count
