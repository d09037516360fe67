"""Sealing a type as soon as its read is over: while other types are still read, and
for any type left over once reading ends.

Sealing is repeatable (see ``sealing``), so its checkpoints can be sparse: at most one a
second, listing the buckets of each type already sealed.

A step that planned the snapshot itself made every staging write the snapshot has: a
type it stored no batch of has nothing to seal, without asking staging (an incremental
snapshot leaves most types unchanged).

A type read whole that the Merkle pass is waiting for is hashed as it is sealed, from
the rows just written: the pass does not read them back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from rewind_common.aio import stop_task
from rewind_common.jobs.runner import StepContext
from rewind_common.registry import ALL_TYPES
from rewind_common.storage.manifest import Segment
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.storage.staging import StagingRecord
from rewind_snapshotter.manifest_pass import fold_sealed
from rewind_snapshotter.snapshot.sealing import BucketSealer
from rewind_snapshotter.snapshot.state import SnapshotState, TypeProgress

#: Records sealed together, about: what a unit holds in memory, twice over while the next
#: unit is read (a group's record, with its members' link set, takes about 2 KB).
SEAL_UNIT = 5_000
_CHECKPOINT_SECONDS = 1.0
#: The order the Merkle pass takes types in.
_ORDER = [object_type.name for object_type in ALL_TYPES]


def seal_units(buckets: list[str], records: int) -> list[list[str]]:
    """Buckets sealed together, about ``SEAL_UNIT`` records a unit (ids spread evenly
    over the buckets): a small type in one unit, a large one a bucket at a time."""
    per_unit = max(1, SEAL_UNIT * len(buckets) // max(records, 1))
    return [buckets[i : i + per_unit] for i in range(0, len(buckets), per_unit)]


class SealPhase:
    def __init__(
        self,
        store: SnapshotStore,
        state: SnapshotState,
        *,
        tenant_id: str,
        context: StepContext,
        save: Callable[[], Awaitable[None]],
        staging_known: bool = False,
    ) -> None:
        self._store = store
        self._state = state
        self._staging_known = staging_known
        self._tenant_id = tenant_id
        self._context = context
        self._save = save
        self._base_chain = [Segment.from_document(s) for s in state.base_chain]
        self._saved = time.monotonic()

    async def seal_type(self, progress: TypeProgress) -> bool:
        """Seal what remains of a type whose read is over; False if time ran out."""
        state = self._state
        if progress.sealed:
            return True
        if self._staging_known and progress.revision == 0:
            # Nothing of the type was staged: its pages stored no batch in this attempt,
            # and every write of the snapshot is this step's (none to ask staging about).
            progress.sealed = True
            await self._maybe_save()
            return True
        buckets = await self._store.staging.buckets(
            state.snapshot_id, progress.name, progress.attempt
        )
        sealed = set(progress.sealed_buckets)
        units = [unit for unit in seal_units(buckets, progress.read) if not set(unit) <= sealed]

        def read(unit: list[str]) -> asyncio.Task[list[StagingRecord]]:
            return asyncio.create_task(
                self._store.staging.records(
                    state.snapshot_id, progress.name, progress.attempt, unit
                )
            )

        # The next unit's records are read while this one is sealed, and its chunks
        # written while the next one is: a unit counts as sealed once they are.
        following = read(units[0]) if units else None
        writing: tuple[list[str], BucketSealer, asyncio.Task[None]] | None = None
        try:
            for index, unit in enumerate(units):
                assert following is not None
                records = await following
                following = read(units[index + 1]) if index + 1 < len(units) else None
                sealer = BucketSealer(
                    self._store,
                    tenant_id=self._tenant_id,
                    segment=state.snapshot_id,
                    base_chain=self._base_chain,
                    type_name=progress.name,
                    full=progress.full,
                )
                await sealer.seal(records)
                if writing is not None:
                    await self._written(progress, *writing)
                writing = (unit, sealer, asyncio.create_task(sealer.write()))
                if self._context.out_of_time():
                    await self._written(progress, *writing)
                    writing = None
                    await self._save()
                    return False
                await self._maybe_save()
            if writing is not None:
                await self._written(progress, *writing)
                writing = None
        finally:
            if following is not None and not following.done():
                await stop_task(following)
            if writing is not None:
                await stop_task(writing[2])
        progress.sealed = True
        await self._maybe_save()
        return True

    async def _written(
        self,
        progress: TypeProgress,
        unit: list[str],
        sealer: BucketSealer,
        writing: asyncio.Task[None],
    ) -> None:
        """Once a unit's chunks are written: it counts as sealed, with what it stored."""
        await writing
        state = self._state
        if sealer.packs - set(state.packs):
            state.packs = sorted(set(state.packs) | sealer.packs)
        state.manifest_bytes += sealer.manifest_bytes
        progress.new_versions += sealer.new_versions
        progress.new_bytes += sealer.new_bytes
        progress.sealed_buckets.extend(unit)
        self._hash_while_sealing(progress, sealer)

    def _hash_while_sealing(self, progress: TypeProgress, sealer: BucketSealer) -> None:
        """When the Merkle pass waits for exactly what was just sealed (the type is next
        in its order, read whole, and every earlier row of it went the same way), fold
        the rows in now rather than read them back once the type is sealed."""
        merkle = self._state.merkle
        contiguous = merkle.after == progress.last_sealed_id
        if sealer.rows:
            progress.last_sealed_id = sealer.rows[-1][0]
        if (
            progress.full
            and contiguous
            and merkle.type_index < len(_ORDER)
            and _ORDER[merkle.type_index] == progress.name
        ):
            fold_sealed(merkle, progress.name, sealer.rows, sealer.digests)

    async def _maybe_save(self) -> None:
        if time.monotonic() - self._saved >= _CHECKPOINT_SECONDS:
            await self._save()
            self._saved = time.monotonic()
            await self._context.raise_if_canceled()
