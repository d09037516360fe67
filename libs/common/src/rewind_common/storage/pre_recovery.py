"""Pre-recovery snapshots: the objects a recovery is about to write, as they were just
before its first write, so the recovery can itself be undone.

A pre-recovery snapshot is **partial**: it holds only the objects the plan touches. It
is therefore never a snapshot of the tenant: its record is not in ``snapshots`` (which
lists tenant backups and whose newest entry is the base of the next incremental one)
but in ``recovery_actions`` next to its recovery (``seq`` -1)::

    {_id: <snapshot id>, kind: "preRecoverySnapshot", mode: "preRecovery", partial: true,
     recovery, tenantId, sourceSnapshotId, createdAt, completedAt,
     scope: {"objects": [{"type", "ids"}]},      # exactly what it holds
     chain: [{"id": <snapshot id>, "fullTypes": []}],
     counts, deletedCounts, linkCounts, entryCount, newVersions, storedBytes,
     manifestRoot, merkleRoot}

Its data is ordinary snapshot data (one manifest segment named after it, versions and
link sets in packs it wrote itself, never shared with a tenant snapshot, so retention of
backups never removes what it needs), readable with ``SnapshotReader`` through
``chain``. A recovery started from it (``snapshotId`` = its id) is limited to its scope:
outside it, the snapshot knows nothing, and "absent from the backup" must not read as
"created since". It is read, browsed and verified by its id like any snapshot
(``as_record``), but never listed among the tenant's backups, never the base of an
incremental one, and kept as long as its recovery (no retention, no legal hold).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError, PyMongoError

from rewind_common.domain.merkle import MerkleBuilder, chained_root
from rewind_common.domain.records import ObjectState
from rewind_common.domain.scope import Scope
from rewind_common.jobs.model import JobStatus
from rewind_common.registry import get_type, type_names
from rewind_common.storage.canonical import canonical_and_hash
from rewind_common.storage.manifest import ManifestEntry, Segment
from rewind_common.storage.mongo import Collection, Document, Mongo, unavailable
from rewind_common.storage.packs import PackBuilder, linkset_digest
from rewind_common.storage.snapshot_record import SnapshotRecord
from rewind_common.storage.snapshots import SnapshotStore

PRE_RECOVERY_SEQ = -1
PRE_RECOVERY_KIND = "preRecoverySnapshot"
PRE_RECOVERY_MODE = "preRecovery"


@dataclass(frozen=True)
class PreRecoverySnapshot:
    id: str
    tenant_id: str
    recovery_id: str
    source_snapshot_id: str | None
    created_at: datetime
    scope: Scope
    counts: dict[str, int]
    deleted_counts: dict[str, int]
    link_counts: dict[str, int]
    manifest_root: str
    merkle_root: str
    chain: list[Segment] = field(default_factory=list)
    new_versions: int = 0
    stored_bytes: int = 0

    def to_document(self) -> Document:
        return {
            "_id": self.id,
            "recovery": self.recovery_id,
            "seq": PRE_RECOVERY_SEQ,
            "kind": PRE_RECOVERY_KIND,
            "mode": PRE_RECOVERY_MODE,
            "partial": True,
            "tenantId": self.tenant_id,
            "sourceSnapshotId": self.source_snapshot_id,
            "createdAt": self.created_at,
            "completedAt": self.created_at,
            "scope": self.scope.to_dict(),
            "chain": [segment.to_document() for segment in self.chain],
            "counts": self.counts,
            "deletedCounts": self.deleted_counts,
            "linkCounts": self.link_counts,
            "entryCount": sum(self.counts.values()),
            "newVersions": self.new_versions,
            "storedBytes": self.stored_bytes,
            "manifestRoot": self.manifest_root,
            "merkleRoot": self.merkle_root,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> PreRecoverySnapshot:
        return cls(
            id=str(document["_id"]),
            tenant_id=str(document["tenantId"]),
            recovery_id=str(document["recovery"]),
            source_snapshot_id=document.get("sourceSnapshotId"),
            created_at=document["createdAt"],
            scope=Scope.from_dict(document.get("scope"), max_ids=10**9),
            counts=dict(document.get("counts", {})),
            deleted_counts=dict(document.get("deletedCounts", {})),
            link_counts=dict(document.get("linkCounts", {})),
            manifest_root=str(document["manifestRoot"]),
            merkle_root=str(document["merkleRoot"]),
            chain=[Segment.from_document(s) for s in document.get("chain", [])],
            new_versions=int(document.get("newVersions", 0)),
            stored_bytes=int(document.get("storedBytes", 0)),
        )

    def as_record(self) -> SnapshotRecord:
        """The snapshot as a record its readers (browsing, verify) take: completed by
        its recovery's job, chained to nothing."""
        return SnapshotRecord(
            id=self.id,
            tenant_id=self.tenant_id,
            job_id=self.recovery_id,
            mode=PRE_RECOVERY_MODE,
            status=JobStatus.COMPLETED.value,
            created_at=self.created_at,
            completed_at=self.created_at,
            chain=self.chain,
            counts=self.counts,
            deleted_counts=self.deleted_counts,
            link_counts=self.link_counts,
            entry_count=sum(self.counts.values()),
            new_versions=self.new_versions,
            stored_bytes=self.stored_bytes,
            manifest_root=self.manifest_root,
            merkle_root=self.merkle_root,
            previous_root=None,
            previous_snapshot_id=None,
        )


def _entries(
    states: Sequence[ObjectState], snapshot_id: str, tenant_id: str
) -> tuple[dict[str, list[ManifestEntry]], dict[str, PackBuilder]]:
    """Manifest entries per type (sorted by id) and the packs holding their content."""
    entries: dict[str, list[ManifestEntry]] = {}
    builders: dict[str, PackBuilder] = {}
    for state in sorted(states, key=lambda s: (s.type, s.object_id)):
        object_type = get_type(state.type)
        builder = builders.setdefault(
            state.type, PackBuilder(snapshot_id, state.type, tenant_id=tenant_id)
        )
        canonical, digest = canonical_and_hash(dict(state.body))
        builder.add_version(digest, canonical)
        links: dict[str, str | None] = {}
        sizes: dict[str, int] = {}
        for link in object_type.links:
            value = state.links.get(link.name)
            if not link.many:
                links[link.name] = value if isinstance(value, str) else None
                continue
            if state.deleted and link.name not in state.links:
                continue  # Graph does not show a deleted object's links
            ids = sorted(set(value or ())) if not isinstance(value, str) else [value]
            set_digest = linkset_digest(ids)
            builder.add_linkset(set_digest, ids)
            links[link.name] = set_digest
            sizes[link.name] = len(ids)
        entries.setdefault(state.type, []).append(
            ManifestEntry(
                type=state.type,
                object_id=state.object_id,
                version=digest,
                deleted=state.deleted,
                display_name=state.display_name,
                links=links,
                link_sizes=sizes,
                volatile=state.volatile,
            )
        )
    return entries, builders


class PreRecoverySnapshots:
    def __init__(self, mongo: Mongo, store: SnapshotStore) -> None:
        self._records = mongo.collection(Collection.RECOVERY_ACTIONS)
        self._store = store

    async def write(
        self,
        snapshot_id: str,
        *,
        tenant_id: str,
        recovery_id: str,
        source_snapshot_id: str | None,
        states: Sequence[ObjectState],
        at: datetime,
    ) -> PreRecoverySnapshot:
        """Store the states and publish the record; idempotent (a redelivered step
        writing the same snapshot again finds it there)."""
        found = await self.find(snapshot_id)
        if found is not None:
            return found
        entries, builders = _entries(states, snapshot_id, tenant_id)
        new_versions = stored_bytes = 0
        for type_name, builder in builders.items():
            # Every version goes into this snapshot's own packs: one shared with a
            # tenant snapshot would disappear when retention removes that snapshot.
            where = await self._store.packs.insert(builder)
            typed = [
                ManifestEntry(
                    type=e.type,
                    object_id=e.object_id,
                    version=e.version,
                    deleted=e.deleted,
                    display_name=e.display_name,
                    links=e.links,
                    pack=where.get(e.version or ""),
                    link_packs={
                        name: where[digest]
                        for name, digest in e.links.items()
                        if digest is not None and digest in where
                    },
                    link_sizes=e.link_sizes,
                    volatile=e.volatile,
                )
                for e in entries[type_name]
            ]
            entries[type_name] = typed
            written = await self._store.chunks.write_rows(
                snapshot_id,
                type_name,
                [entry.to_row() for entry in typed],
                [entry.leaf_digest() for entry in typed],
            )
            new_versions += builder.new_versions
            stored_bytes += builder.new_bytes + written.bytes
        merkle = MerkleBuilder()
        for type_name in type_names():
            for entry in entries.get(type_name, []):
                merkle.add(entry.leaf())
        root = merkle.root
        objects = {
            name: frozenset(e.object_id for e in found_entries)
            for name, found_entries in entries.items()
        }
        record = PreRecoverySnapshot(
            id=snapshot_id,
            tenant_id=tenant_id,
            recovery_id=recovery_id,
            source_snapshot_id=source_snapshot_id,
            created_at=at,
            scope=Scope(objects=objects),
            counts={name: len(e) for name, e in entries.items()},
            deleted_counts={
                name: sum(1 for entry in e if entry.deleted) for name, e in entries.items()
            },
            link_counts=_link_counts(entries),
            manifest_root=root,
            merkle_root=chained_root(root, None),
            chain=[Segment(snapshot_id, frozenset())],
            new_versions=new_versions,
            stored_bytes=stored_bytes,
        )
        try:
            await self._records.insert_one(record.to_document())
        except DuplicateKeyError:
            pass
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return record

    async def find_any(
        self, snapshot_id: str, tenant_id: str | None = None
    ) -> SnapshotRecord | PreRecoverySnapshot | None:
        """The tenant's snapshot of that id, else the pre-recovery snapshot of that id
        (of ``tenant_id`` when given)."""
        record = await self._store.find(snapshot_id)
        if record is not None:
            return record if tenant_id is None or record.tenant_id == tenant_id else None
        partial = await self.find(snapshot_id)
        if partial is None or (tenant_id is not None and partial.tenant_id != tenant_id):
            return None
        return partial

    async def find(self, snapshot_id: str) -> PreRecoverySnapshot | None:
        try:
            document = await self._records.find_one({"_id": snapshot_id, "seq": PRE_RECOVERY_SEQ})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return PreRecoverySnapshot.from_document(document) if document else None


def _link_counts(entries: Mapping[str, list[ManifestEntry]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for found in entries.values():
        for entry in found:
            for name, size in entry.link_sizes.items():
                counts[name] = counts.get(name, 0) + size
    return counts
