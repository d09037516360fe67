"""A stored snapshot read back as ``ObjectState``s: the same shape ``TenantReader``
gives for the live tenant, so the differ and the recoverer compare like with like.

- ``pages(snapshot, type)`` / ``states(snapshot, type)``: a type's objects in id order,
  streamed a batch at a time (versions and link sets resolved per batch, by pack);
- ``get(snapshot, type, ids)``: specific objects, in O(N) reads for N ids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence

from rewind_common.domain.records import LinkValue, ObjectState
from rewind_common.errors import IntegrityError
from rewind_common.registry import get_type
from rewind_common.storage.manifest import ManifestEntry, Segment
from rewind_common.storage.packs import version_body
from rewind_common.storage.snapshots import SnapshotRecord, SnapshotStore

BATCH = 500

SnapshotRef = SnapshotRecord | list[Segment]


def _chain(snapshot: SnapshotRef) -> list[Segment]:
    return snapshot.chain if isinstance(snapshot, SnapshotRecord) else snapshot


class SnapshotReader:
    def __init__(self, store: SnapshotStore) -> None:
        self._store = store

    async def pages(
        self, snapshot: SnapshotRef, type_name: str, *, size: int = BATCH
    ) -> AsyncIterator[list[ObjectState]]:
        """A type's objects (deleted ones flagged), sorted by id, ``size`` at a time."""
        get_type(type_name)
        batch: list[ManifestEntry] = []
        async for entry in self._store.manifests.iterate_type(_chain(snapshot), type_name):
            batch.append(entry)
            if len(batch) >= size:
                yield await self.resolve(batch)
                batch = []
        if batch:
            yield await self.resolve(batch)

    async def states(self, snapshot: SnapshotRef, type_name: str) -> AsyncIterator[ObjectState]:
        async for page in self.pages(snapshot, type_name):
            for state in page:
                yield state

    async def get(
        self, snapshot: SnapshotRef, type_name: str, object_ids: Iterable[str]
    ) -> dict[str, ObjectState]:
        """The objects of ``object_ids`` the snapshot holds."""
        get_type(type_name)
        entries = await self._store.manifests.get_entries(_chain(snapshot), type_name, object_ids)
        ordered = [entries[object_id] for object_id in sorted(entries)]
        return {state.object_id: state for state in await self.resolve(ordered)}

    async def resolve(self, entries: Sequence[ManifestEntry]) -> list[ObjectState]:
        """Object states of manifest entries: bodies and link sets fetched by pack."""
        live = [entry for entry in entries if entry.version is not None]
        versions = await self._store.packs.versions(
            (entry.version, entry.pack) for entry in live if entry.version is not None
        )
        link_refs = [
            (digest, entry.link_packs.get(name))
            for entry in live
            for name, digest in entry.links.items()
            if digest is not None and get_type(entry.type).link(name).many
        ]
        linksets = await self._store.packs.linksets(link_refs) if link_refs else {}
        states = []
        for entry in live:
            assert entry.version is not None
            canonical = versions.get(entry.version)
            if canonical is None:
                raise IntegrityError(
                    f"version {entry.version} of {entry.type} {entry.object_id} is missing"
                )
            states.append(
                ObjectState(
                    type=entry.type,
                    object_id=entry.object_id,
                    body=version_body(canonical),
                    deleted=entry.deleted,
                    links=self._links(entry, linksets),
                    volatile=entry.volatile,
                )
            )
        return states

    @staticmethod
    def _links(entry: ManifestEntry, linksets: dict[str, list[str]]) -> dict[str, LinkValue]:
        object_type = get_type(entry.type)
        links: dict[str, LinkValue] = {}
        for link in object_type.links:
            value = entry.links.get(link.name)
            if not link.many:
                links[link.name] = value
                continue
            if value is None:
                links[link.name] = ()
                continue
            ids = linksets.get(value)
            if ids is None:
                raise IntegrityError(
                    f"link set {value} ({link.name} of {entry.type} {entry.object_id}) is missing"
                )
            links[link.name] = tuple(sorted(ids))
        return links
