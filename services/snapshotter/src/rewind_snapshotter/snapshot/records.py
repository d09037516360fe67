"""Pages of a type's read, stored: new versions and link sets into packs, and a staging
record per object (see ``storage.staging`` for what records are).

Pages are gathered until ``FLUSH_RECORDS`` records (or the end of a stage, or of the
step's time) and then stored together, while the next pages are read: the local
MongoDB-compatible server pays per document and per round trip far more than per byte,
so a few large writes beat many small ones. The job checkpoints after each batch is
stored; a step redelivered after a crash reads again the pages of the batch it lost.

Each page is compared with the previous snapshot as it is stored, by looking up the
page's ids in the previous manifest: an unchanged body or link set is referenced where
it already is, so an unchanged tenant stores no new version. The lookup reads the
manifest chunks covering the page's ids; when a page's ids are scattered over too many
chunks (Graph pages in no particular order), comparing is left to sealing, which sees
each bucket's ids sorted: bodies then wait in staging and only new ones reach a pack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rewind_common.domain.records import ObjectState
from rewind_common.registry import ObjectType, get_type
from rewind_common.storage.canonical import canonical_and_hash
from rewind_common.storage.manifest import ManifestEntry, Segment
from rewind_common.storage.packs import PackBuilder, linkset_digest
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.storage.staging import BODY, GONE, LINKS, StagingRecord
from rewind_common.tenant import DeltaItem, LinkOps, TenantReader
from rewind_snapshotter.snapshot.state import TypeProgress

#: Chunks a page's comparison may fetch before comparing moves to sealing.
DEDUP_FETCH_LIMIT = 24
#: Records gathered before they are stored.
FLUSH_RECORDS = 2500


class PageWriter:
    def __init__(
        self,
        store: SnapshotStore,
        *,
        tenant_id: str,
        segment: str,
        base_chain: list[Segment],
        progress: TypeProgress,
    ) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._segment = segment
        self._base_chain = base_chain
        self.progress = progress
        self.object_type: ObjectType = get_type(progress.name)
        self._many = {link.name: link.many for link in self.object_type.links}
        self._builder = self._new_builder()
        self._previous: dict[str, ManifestEntry] = {}
        self._pending: list[StagingRecord] = []

    def _new_builder(self) -> PackBuilder:
        return PackBuilder(self._segment, self.object_type.name, tenant_id=self._tenant_id)

    # -- the three kinds of page ----------------------------------------------------------

    async def states(self, states: Sequence[ObjectState], *, with_links: bool) -> None:
        """Objects read whole (a listing, the recycle bin): links, when read, complete."""
        await self._load_previous(state.object_id for state in states)
        body_record = self._body_records()
        records: list[StagingRecord] = []
        for state in states:
            record = body_record(state)
            if with_links and not state.deleted:
                record["L"] = {
                    link.name: self._set_spec(link.name, state.links.get(link.name))
                    for link in self.object_type.links
                }
            records.append(record)
        self._gather(records)

    async def delta(
        self, items: Sequence[DeltaItem], reader: TenantReader, *, first_round: bool
    ) -> None:
        """A page of a delta round. Soft-deleted objects are read from the recycle bin;
        an object back from it has its links read again (a round reports only changes)."""
        await self._load_previous(item.object_id for item in items)
        soft_deleted = [item.object_id for item in items if item.soft_deleted]
        in_bin = await reader.deleted(self.object_type.name, soft_deleted) if soft_deleted else {}
        restored = [
            item.object_id
            for item in items
            if item.state is not None
            and not first_round
            and (previous := self._previous.get(item.object_id)) is not None
            and previous.deleted
        ]
        relinked: dict[str, dict[str, list[str]]] = {object_id: {} for object_id in restored}
        for link in self.object_type.links if restored else ():
            for object_id, targets in (
                await reader.links.targets(self.object_type, link, restored)
            ).items():
                relinked[object_id][link.name] = targets
        body_record = self._body_records()
        ops_spec = self._ops_spec
        records: list[StagingRecord] = []
        for item in items:
            state = item.state
            if state is None:
                deleted_state = in_bin.get(item.object_id) if item.soft_deleted else None
                records.append(
                    body_record(deleted_state)
                    if deleted_state is not None
                    else {"o": item.object_id, "k": GONE}
                )
                continue
            record = body_record(state)
            if relinked and item.object_id in relinked:
                record["L"] = {
                    name: self._set_spec(name, targets)
                    for name, targets in relinked[item.object_id].items()
                }
            elif item.link_ops:
                record["L"] = {
                    name: ops_spec(name, ops, first_round) for name, ops in item.link_ops.items()
                }
            records.append(record)
        self._gather(records)

    async def links(self, link_name: str, targets: Mapping[str, list[str]]) -> None:
        """One link of objects whose bodies come from another read (owners of
        applications and service principals, which their delta does not track)."""
        # compared by hash: no set of these objects is read back
        await self._load_previous(targets, remember=False)
        records: list[StagingRecord] = []
        for object_id, ids in targets.items():
            spec = self._set_spec(link_name, ids)
            if not self._changed_link(object_id, link_name, spec):
                continue
            records.append({"o": object_id, "k": LINKS, "L": {link_name: spec}})
        self._gather(records)

    def _changed_link(self, object_id: str, link_name: str, spec: Mapping[str, Any]) -> bool:
        """Whether a link read apart from its object's body differs from the previous
        snapshot's. An unchanged one needs no record: sealing starts every object of a
        read of changes from its previous entry, and would drop the record's result as
        unchanged only after fetching and folding it (a few thousand owner sets each
        snapshot). Not for a type read whole, whose sealing starts from nothing;
        unknown without the previous entry (comparing left to sealing); and not for an
        object back from the recycle bin, whose links this read already set."""
        previous = self._previous.get(object_id)
        if self.progress.full or previous is None or previous.deleted:
            return True
        now: str | None = spec["m"] if "m" in spec else spec["h"]
        return previous.links.get(link_name) != now

    # -- records ---------------------------------------------------------------------------

    def _body_records(self) -> Callable[[ObjectState], StagingRecord]:
        """The body record of each object of one page: its version hashed, and stored in
        this batch's pack unless the previous snapshot holds it (or comparing waits for
        sealing). What is the same for every object of the page is looked up once."""
        previous_entries = self._previous
        compare_at_seal = self._compare_at_seal
        add_version = self._builder.add_version
        name_property = self.object_type.display_name
        progress = self.progress

        def body_record(state: ObjectState) -> StagingRecord:
            canonical, digest = canonical_and_hash(state.body)
            progress.logical_bytes += len(canonical)
            name = state.body.get(name_property)
            record: StagingRecord = {
                "o": state.object_id,
                "k": BODY,
                "v": digest,
                "d": state.deleted,
                "n": name if isinstance(name, str) else None,
            }
            if state.volatile:
                record["w"] = state.volatile
            previous = previous_entries.get(state.object_id) if previous_entries else None
            if previous is not None and previous.version == digest:
                record["p"] = previous.pack
            elif compare_at_seal:
                record["x"] = canonical.decode("utf-8")
            else:
                add_version(digest, canonical)
                record["p"] = None  # filled in once the pack is built
            return record

        return body_record

    def _set_spec(self, link_name: str, ids: Iterable[str] | str | None) -> dict[str, Any]:
        if not self._many[link_name]:
            value = ids if isinstance(ids, str) or ids is None else next(iter(ids), None)
            return {"m": value}
        members = [] if ids is None or isinstance(ids, str) else sorted(set(ids))
        return self._stored_set(link_name, members)

    def _ops_spec(self, link_name: str, ops: LinkOps, first_round: bool) -> dict[str, Any]:
        if not self._many[link_name]:
            if ops.added:
                return {"m": ops.added[-1]}
            return {"m": None} if ops.removed else {"keep": 1}
        if first_round:
            spec = self._stored_set(link_name, sorted(set(ops.added)))
            spec["u"] = 1
            return spec
        return {"+": sorted(set(ops.added)), "-": sorted(set(ops.removed))}

    def _stored_set(self, link_name: str, members: list[str]) -> dict[str, Any]:
        if not members:
            return {"h": None, "c": 0}
        digest = linkset_digest(members)
        return {"h": digest, "c": len(members), "p": None, "ids": members}

    # -- storing ---------------------------------------------------------------------------

    @property
    def _compare_at_seal(self) -> bool:
        return bool(self._base_chain) and not self.progress.dedup

    async def _load_previous(self, object_ids: Iterable[str], *, remember: bool = True) -> None:
        self._previous = {}
        if not self._base_chain:
            return
        wanted = list(object_ids)
        name = self.object_type.name
        # Counted before fetching: a page whose ids are scattered fetches nothing now.
        if self.progress.dedup and (
            await self._store.manifests.fetches_for(self._base_chain, name, wanted)
            > DEDUP_FETCH_LIMIT
        ):
            self.progress.dedup = False
        if not self.progress.dedup:
            if not self.progress.full:
                # Sealing looks up every object a read of changes saw: its chunks are
                # fetched while the next pages are read.
                await self._store.manifests.warm(self._base_chain, name, wanted)
            return
        self._previous = await self._store.manifests.get_entries(
            self._base_chain, name, wanted, remember=remember
        )

    def _gather(self, records: list[StagingRecord]) -> None:
        """Keep a page's records for the next flush; its new link sets go to the pack
        (unchanged ones stay where the previous snapshot stored them)."""
        for record in records:
            for name, spec in (record.get("L") or {}).items():
                ids = spec.pop("ids", None)
                if ids is None:
                    continue
                previous = self._previous.get(record["o"])
                if previous is not None and previous.links.get(name) == spec["h"]:
                    spec["p"] = previous.link_packs.get(name)
                else:
                    self._builder.add_linkset(spec["h"], ids)
        self._pending.extend(records)

    @property
    def full(self) -> bool:
        return len(self._pending) >= FLUSH_RECORDS

    def detach(self) -> Batch | None:
        """Take what was gathered, to be stored while the next pages are read."""
        if not self._pending and not self._builder:
            return None
        batch = Batch(self._pending, self._builder, self.progress.revision)
        self._pending, self._builder = [], self._new_builder()
        self.progress.revision += 1
        return batch

    async def store(self, batch: Batch) -> None:
        """Store a batch's pack, then its records (which name the pack)."""
        where: dict[str, str] = {}
        if batch.builder and self._base_chain:
            where = await self._stored_earlier(batch)
            batch.builder.reuse(where)
        if batch.builder:
            where = {**where, **await self._store.packs.insert(batch.builder)}
        for record in batch.records:
            if "p" in record and record["p"] is None:
                record["p"] = where.get(record["v"])
            for spec in (record.get("L") or {}).values():
                if spec.get("h") and spec.get("p") is None:
                    spec["p"] = where.get(spec["h"])
        progress = self.progress
        if batch.records:
            await self._store.staging.write(
                self._segment, progress.name, progress.attempt, batch.revision, batch.records
            )
        # Counted with the read, which the checkpoint after this batch records.
        progress.read += sum(1 for record in batch.records if record["k"] == BODY)
        progress.new_versions += batch.builder.new_versions
        progress.new_bytes += batch.builder.new_bytes

    async def _stored_earlier(self, batch: Batch) -> dict[str, str]:
        """The packs of the batch's new content that the objects' earlier entries in
        the chain already stored."""
        builder = batch.builder
        wanted: dict[str, set[str]] = {}
        for record in batch.records:
            # "p": None marks content waiting for this batch's pack
            hashes = {record["v"]} if "p" in record and record["p"] is None else set()
            hashes.update(
                spec["h"]
                for spec in (record.get("L") or {}).values()
                if spec.get("h") in builder and spec.get("p") is None
            )
            if hashes:
                wanted.setdefault(record["o"], set()).update(hashes)
        return await self._store.manifests.earlier_packs(
            self._base_chain, self.object_type.name, wanted
        )

    async def flush(self) -> None:
        batch = self.detach()
        if batch is not None:
            await self.store(batch)


@dataclass
class Batch:
    """Pages gathered for one write: their records and the pack of their new content."""

    records: list[StagingRecord]
    builder: PackBuilder
    revision: int
