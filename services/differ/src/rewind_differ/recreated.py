"""Objects an earlier recovery re-created, compared under the ids they have now.

A recovery re-creates a hard-deleted object under a new id and rewrites every reference
to it. Compared literally, a later report against the live tenant would list the old
object as hard-deleted (to re-create again), its new incarnation as created since the
backup, and every rewritten reference as updated: a recovery that succeeded would look
undone, and recovering from that report would duplicate the object. So a report against
the live tenant reads the backup through the tenant's lineage of re-creations (old id →
newest id, ``RecoveryStore.lineage``), as a recovery does: an object the backup holds
under its old id is compared with the live object of its new id, and references and
links to old ids are read as the new ones.

The lineage leaves out a new id the backup itself holds (a backup taken after the
re-creation already knows it). A report between two snapshots compares what was stored,
literally.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

from rewind_common.domain.lineage import in_current_ids
from rewind_common.domain.records import ObjectState
from rewind_common.registry import type_names
from rewind_common.storage.manifest import Segment
from rewind_common.storage.report_staging import entry_fingerprint
from rewind_common.storage.snapshots import SnapshotStore
from rewind_differ.sides import Item


@dataclass(frozen=True)
class Recreated:
    """Old → new ids (and appIds) the backup is read through."""

    mapping: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.mapping)

    @classmethod
    async def of(
        cls, store: SnapshotStore, chain: list[Segment], lineage: Mapping[str, str]
    ) -> Recreated:
        if not lineage:
            return cls()
        new_ids = sorted(set(lineage.values()))
        held: set[str] = set()
        for type_name in type_names():
            held |= (await store.manifests.get_entries(chain, type_name, new_ids)).keys()
        return cls({old: new for old, new in lineage.items() if new not in held})

    async def renamed_items(
        self,
        store: SnapshotStore,
        chain: list[Segment],
        type_name: str,
        ids: Sequence[str] | None,
    ) -> dict[str, Item]:
        """The backup's re-created objects of a type (of ``ids`` when given), by their
        old id, each as an item under its new id."""
        wanted = set(ids) if ids is not None else None
        old_ids = sorted(old for old in self.mapping if wanted is None or old in wanted)
        if not old_ids:
            return {}
        found = await store.manifests.get_entries(chain, type_name, old_ids)
        return {
            old: Item(self.mapping[old], entry_fingerprint(entry), entry=entry)
            for old, entry in found.items()
            if entry.version is not None
        }

    def backup_state(self, state: ObjectState) -> ObjectState:
        """A backed-up state as the live tenant names things now."""
        return in_current_ids([state], self.mapping)[0] if self.mapping else state


async def with_renamed(
    backup: AsyncIterator[Item], renamed: Mapping[str, Item], *, after: str | None
) -> AsyncGenerator[Item, None]:
    """The backup's items in id order with each re-created object moved from its old id
    to its new one (after ``after``, where a comparison resumes)."""
    moved = sorted(
        (item for item in renamed.values() if after is None or item.object_id > after),
        key=lambda item: item.object_id,
    )
    index = 0
    try:
        async for item in backup:
            if item.object_id in renamed:
                continue
            while index < len(moved) and moved[index].object_id < item.object_id:
                yield moved[index]
                index += 1
            yield item
        for item in moved[index:]:
            yield item
    finally:
        close = getattr(backup, "aclose", None)
        if close is not None:
            await close()
