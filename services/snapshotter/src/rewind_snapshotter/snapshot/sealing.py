"""Sealing: a type's staging records, one bucket of ids at a time, folded into the new
segment's sorted manifest chunks.

For each object the records are applied in reading order, starting from nothing when
the type is read whole, else from the object's entry in the previous snapshot:

- a body sets the version, the deleted flag and the display name, and may carry links;
- links replace a set (``h``: a stored set), add to it (``u``: part of a first delta
  round that Graph split over pages), apply additions and removals (``+``/``-``: a
  later round) or set the manager (``m``);
- ``gone`` removes the object (a tombstone when the previous snapshot had it).

Objects in the recycle bin have no links: Graph does not expose them. An object whose
folded entry equals its previous one is not written again. Folding depends only on the
staging records and the previous snapshot, both immutable, so a bucket sealed twice
(a redelivered step) writes the same chunks, and the duplicates are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rewind_common.registry import ObjectType, get_type
from rewind_common.storage.manifest import ManifestEntry, Segment, row_leaf_digests
from rewind_common.storage.packs import LINKSETS, PackBuilder, linkset_digest
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.storage.staging import BODY, GONE, StagingRecord, ordered_records

#: A link's state while folding: a stored set, a set of ids, or the manager's id.
_SET = "set"
_IDS = "ids"
_ONE = "one"


@dataclass
class _Fold:
    exists: bool = False
    version: str | None = None
    pack: str | None = None
    canonical: str | None = None
    deleted: bool = False
    name: str | None = None
    links: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    volatile: Mapping[str, Any] | None = None


def _from_entry(entry: ManifestEntry, object_type: ObjectType) -> _Fold:
    fold = _Fold(
        exists=True,
        version=entry.version,
        pack=entry.pack,
        deleted=entry.deleted,
        name=entry.display_name,
        volatile=entry.volatile,
    )
    for link in object_type.links:
        value = entry.links.get(link.name)
        if value is None:
            continue
        if link.many:
            size = entry.link_sizes.get(link.name, 0)
            fold.links[link.name] = (_SET, value, entry.link_packs.get(link.name), size)
        else:
            fold.links[link.name] = (_ONE, value)
    return fold


class BucketSealer:
    """Seals buckets of one type of the new segment."""

    def __init__(
        self,
        store: SnapshotStore,
        *,
        tenant_id: str,
        segment: str,
        base_chain: list[Segment],
        type_name: str,
        full: bool,
    ) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._segment = segment
        self._base_chain = base_chain
        self._type = get_type(type_name)
        self._full = full
        self._sets: dict[str, set[str]] = {}
        #: Packs the written entries reference, and the bytes of the written chunks.
        self.packs: set[str] = set()
        self.manifest_bytes = 0
        #: The rows written by the last ``seal`` (sorted by id) and their Merkle leaves.
        self.rows: list[list[Any]] = []
        self.digests: list[bytes] = []
        #: Versions and bytes of the packs sealing wrote (see ``PackBuilder.new_versions``).
        self.new_versions = 0
        self.new_bytes = 0

    async def seal(self, records: list[StagingRecord]) -> int:
        """Fold the staging records of some buckets (adjacent ranges of ids), in reading
        order, into rows and their leaves, storing the new content they need; returns
        the entries to write (``write`` writes them)."""
        grouped = ordered_records(records)
        ids = sorted(grouped)
        needs_previous = not self._full or any("x" in r for r in records)
        previous: dict[str, ManifestEntry] = {}
        if needs_previous and self._base_chain:
            previous = await self._store.manifests.get_entries(
                self._base_chain, self._type.name, ids
            )
        builder = PackBuilder(self._segment, self._type.name, tenant_id=self._tenant_id)
        type_name = self._type.name
        rows: list[list[Any]] = []
        for object_id in ids:
            before = previous.get(object_id)
            records_of = grouped[object_id]
            row = self._direct(object_id, records_of) if before is None else None
            if row is None:
                fold = _from_entry(before, self._type) if before and not self._full else _Fold()
                for record in records_of:
                    await self._apply(fold, record)
                entry = self._entry(object_id, fold, before, builder)
                row = entry.to_row() if entry is not None else None
            if row is not None:
                rows.append(row)
        if builder and self._base_chain:
            earlier = await self._stored_earlier(rows, builder)
            builder.reuse(earlier)
            for row in rows:
                _place(row, earlier)
        if builder:
            where = await self._store.packs.insert(builder)
            self.new_versions += builder.new_versions
            self.new_bytes += builder.new_bytes
            for row in rows:
                _place(row, where)
        packs = self.packs
        for row in rows:
            if row[2]:
                packs.add(row[2])
            for name, link_pack in (row[6] or {}).items():
                if link_pack == LINKSETS:
                    packs.add(f"{LINKSETS}:{row[5][name]}")
                elif link_pack:
                    packs.add(link_pack)
        if rows:
            self.rows, self.digests = rows, row_leaf_digests(type_name, rows)
        return len(rows)

    async def write(self) -> None:
        """Write the manifest chunks of the entries the last ``seal`` folded (their
        packs are stored already)."""
        if self.rows:
            written = await self._store.chunks.write_rows(
                self._segment, self._type.name, self.rows, self.digests
            )
            self.manifest_bytes += written.bytes

    async def _stored_earlier(self, rows: list[list[Any]], builder: PackBuilder) -> dict[str, str]:
        """The packs of new content that the objects' earlier entries in the chain
        already stored (see ``ManifestChains.earlier_packs``)."""
        wanted: dict[str, set[str]] = {}
        for row in rows:
            hashes = {row[1]} if not row[2] and row[1] in builder else set()
            placed = row[6] or {}
            hashes.update(
                digest
                for name, digest in (row[5] or {}).items()
                if name not in placed and digest in builder
            )
            if hashes:
                wanted[row[0]] = hashes
        return await self._store.manifests.earlier_packs(self._base_chain, self._type.name, wanted)

    def _direct(self, object_id: str, records: list[StagingRecord]) -> list[Any] | None:
        """The stored row of an object read once, whole, with nothing to fold or fetch
        (most objects of a full read): None when folding is needed."""
        if len(records) != 1 or not self._full:
            return None
        record = records[0]
        if record["k"] != BODY or "x" in record:
            return None
        links: dict[str, str | None] = {}
        packs: dict[str, str] = {}
        sizes: dict[str, int] = {}
        deleted = bool(record.get("d"))
        if not deleted:
            for name, spec in (record.get("L") or {}).items():
                if "m" in spec:
                    if spec["m"]:
                        links[name] = spec["m"]
                elif "h" in spec:
                    if spec["h"]:
                        links[name] = spec["h"]
                        sizes[name] = int(spec.get("c", 0))
                        if spec.get("p"):
                            packs[name] = spec["p"]
                elif "keep" not in spec:
                    return None  # additions and removals: fold
        # ManifestEntry.to_row's layout, without building the entry
        return [
            object_id,
            record["v"],
            record.get("p"),
            deleted,
            record.get("n"),
            links or None,
            packs or None,
            sizes or None,
            record.get("w") or None,
        ]

    async def _apply(self, fold: _Fold, record: StagingRecord) -> None:
        kind = record["k"]
        if kind == GONE:
            fold.exists = False
            fold.links = {}
            return
        if kind == BODY:
            fold.exists = True
            fold.version = record["v"]
            fold.pack = record.get("p")
            fold.canonical = record.get("x")
            fold.deleted = bool(record.get("d"))
            fold.name = record.get("n")
            fold.volatile = record.get("w")
        elif not fold.exists:
            return  # links of an object this segment never saw a body of
        for name, spec in (record.get("L") or {}).items():
            await self._apply_link(fold, name, spec)

    async def _apply_link(self, fold: _Fold, name: str, spec: Mapping[str, Any]) -> None:
        if "keep" in spec:
            return
        if "m" in spec:
            fold.links[name] = (_ONE, spec["m"])
            return
        current = fold.links.get(name)
        if "+" in spec or "-" in spec:
            ids = await self._ids(current)
            fold.links[name] = (_IDS, (ids - set(spec.get("-", ()))) | set(spec.get("+", ())))
            return
        stored = (_SET, spec.get("h"), spec.get("p"), int(spec.get("c", 0)))
        if spec.get("u") and current is not None:
            fold.links[name] = (_IDS, await self._ids(current) | await self._ids(stored))
        else:
            fold.links[name] = stored

    async def _ids(self, state: tuple[Any, ...] | None) -> set[str]:
        if state is None or state[0] == _ONE:
            return set()
        if state[0] == _IDS:
            return set(state[1])
        digest, pack = state[1], state[2]
        if digest is None:
            return set()
        if digest not in self._sets:
            found = await self._store.packs.linksets([(digest, pack)])
            self._sets[digest] = set(found.get(digest, ()))
        return set(self._sets[digest])

    def _entry(
        self,
        object_id: str,
        fold: _Fold,
        before: ManifestEntry | None,
        builder: PackBuilder,
    ) -> ManifestEntry | None:
        if not fold.exists:
            if before is not None and not self._full:
                return ManifestEntry(type=self._type.name, object_id=object_id, version=None)
            return None
        assert fold.version is not None
        pack = fold.pack
        if fold.canonical is not None:
            if before is not None and before.version == fold.version:
                pack = before.pack
            else:
                builder.add_version(fold.version, fold.canonical.encode("utf-8"))
                pack = None
        links: dict[str, str | None] = {}
        packs: dict[str, str] = {}
        sizes: dict[str, int] = {}
        for link in () if fold.deleted else self._type.links:
            state = fold.links.get(link.name)
            if state is None:
                continue
            if state[0] == _ONE:
                if state[1]:
                    links[link.name] = state[1]
                continue
            if state[0] == _SET:
                digest, link_pack, size = state[1], state[2], state[3]
            else:
                members = sorted(state[1])
                digest, size = (linkset_digest(members), len(members)) if members else (None, 0)
                link_pack = None
                if digest is not None:
                    if before is not None and before.links.get(link.name) == digest:
                        link_pack = before.link_packs.get(link.name)
                    else:
                        builder.add_linkset(digest, members)
            if digest is None:
                continue
            links[link.name] = digest
            sizes[link.name] = size
            if link_pack:
                packs[link.name] = link_pack
        entry = ManifestEntry(
            type=self._type.name,
            object_id=object_id,
            version=fold.version,
            deleted=fold.deleted,
            display_name=fold.name,
            links=links,
            pack=pack,
            link_packs=packs,
            link_sizes=sizes,
            volatile=fold.volatile or {},
        )
        if not self._full and before is not None and entry.same_content(before):
            return None
        return entry


def _place(row: list[Any], where: Mapping[str, str]) -> None:
    """Fill in a row the packs that sealing itself just wrote."""
    if not row[2] and row[1] is not None:
        row[2] = where.get(row[1])
    links = row[5] or {}
    packs = dict(row[6] or {})
    for name, digest in links.items():
        if name not in packs and digest is not None and digest in where:
            packs[name] = where[digest]
    row[6] = packs or None
