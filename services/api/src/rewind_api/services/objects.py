"""Browsing what a snapshot holds: its objects by type, and one object as backed up.

Listings stream the snapshot's manifest (a merge of its chain's segments) from the
cursor position, so a page costs the same on the first page and the thousandth. Without
a type, types follow the registry's order; the cursor carries the type and object id of
the last item returned.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from rewind_api.schemas import SnapshotObject, SnapshotObjectDetail
from rewind_common.domain.records import as_returned
from rewind_common.errors import InvalidRequest, NotFound
from rewind_common.registry import REGISTRY, get_type
from rewind_common.storage.manifest import ManifestEntry
from rewind_common.storage.mongo import decode_cursor, encode_cursor
from rewind_common.storage.snapshots import SnapshotRecord, SnapshotStore


def object_item(entry: ManifestEntry) -> SnapshotObject:
    assert entry.version is not None
    return SnapshotObject(
        type=entry.type,
        object_id=entry.object_id,
        display_name=entry.display_name,
        deleted=entry.deleted,
        version_hash=entry.version,
    )


def _cursor_position(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    position = decode_cursor(cursor)
    type_name, object_id = position.get("t"), position.get("o")
    if not isinstance(type_name, str) or not isinstance(object_id, str):
        raise InvalidRequest("the cursor is not one this API returned")
    get_type(type_name)
    return type_name, object_id


class ObjectBrowser:
    def __init__(self, store: SnapshotStore) -> None:
        self._store = store

    async def page(
        self,
        record: SnapshotRecord,
        *,
        type_name: str | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[SnapshotObject], str | None]:
        if type_name is not None:
            get_type(type_name)  # an unknown type is a 400 naming the known ones
        types = [type_name] if type_name is not None else list(REGISTRY)
        position = _cursor_position(cursor)
        if position is not None:
            if position[0] not in types:
                raise InvalidRequest("the cursor belongs to a listing of another type")
            types = types[types.index(position[0]) :]
        items: list[SnapshotObject] = []
        more = False
        for current in types:
            after = position[1] if position is not None and position[0] == current else None
            entries = self._store.manifests.iterate_type(record.chain, current, after=after)
            try:
                more = await _fill(items, entries, limit)
            finally:
                # Stopping early must close the manifest cursors the merge holds open.
                close = getattr(entries, "aclose", None)
                if close is not None:
                    await close()
            if more:
                break
        following = None
        if more:
            last = items[-1]
            following = encode_cursor({"t": last.type, "o": last.object_id})
        return items, following

    async def get(
        self, record: SnapshotRecord, type_name: str, object_id: str
    ) -> SnapshotObjectDetail:
        object_type = get_type(type_name)
        entries = await self._store.manifests.get_entries(record.chain, type_name, [object_id])
        entry = entries.get(object_id)
        if entry is None or entry.version is None:
            raise NotFound(f"snapshot {record.id} holds no {type_name} {object_id}")
        versions = await self._store.get_versions([entry.version])
        version = versions.get(entry.version)
        if version is None:
            raise NotFound(f"version {entry.version} of {type_name} {object_id} is missing")
        links: dict[str, list[str] | str | None] = {}
        for link in object_type.links:
            value = entry.links.get(link.name)
            if link.many:
                links[link.name] = await self._store.get_linkset(value) if value else []
            else:
                links[link.name] = value
        item = object_item(entry)
        # As Graph returned it: the hashed body and the volatile properties kept beside it
        body = as_returned(version.body, entry.volatile)
        return SnapshotObjectDetail(**item.model_dump(), body=body, links=links)


async def _fill(
    items: list[SnapshotObject], entries: AsyncIterator[ManifestEntry], limit: int
) -> bool:
    """Append entries until the page is full; True if at least one more exists."""
    async for entry in entries:
        if len(items) == limit:
            return True
        items.append(object_item(entry))
    return False
