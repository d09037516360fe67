"""Reading specific objects by id: live first, then the recycle bin, then their links.

Each step is one ``$batch`` per 20 ids (the batch limit), so N ids cost O(N) requests
whatever the tenant's size: what a difference report scoped to a few objects needs.
"""

from __future__ import annotations

from collections.abc import Mapping

from rewind_common.domain.records import ObjectState
from rewind_common.registry import Listing, ObjectType
from rewind_common.tenant import plans
from rewind_common.tenant.convert import state_of
from rewind_common.tenant.errors import DeletedItemsNotReadable
from rewind_common.tenant.links import BatchGetter, LinkReader, graph_error_of, raise_for

#: What Graph answers for an id it does not have (400 for an id of the wrong shape).
ABSENT = frozenset({400, 404})


def _selected(object_type: ObjectType, path: str) -> str:
    if not object_type.select:
        return path
    return plans.with_query(path, {"$select": ",".join(object_type.select)})


class IdReader:
    def __init__(self, getter: BatchGetter, links: LinkReader) -> None:
        self._getter = getter
        self._links = links

    async def get(
        self,
        object_type: ObjectType,
        ids: list[str],
        parents: Mapping[str, str],
    ) -> dict[str, ObjectState]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        if object_type.listing is Listing.SINGLETON:
            raw = await self._getter.graph.get(object_type.path)
            state = state_of(object_type, raw, links={})
            return {state.object_id: state} if state.object_id in wanted else {}
        if object_type.listing is Listing.PER_PARENT:
            return await self._per_parent(object_type, wanted, parents)
        found = await self._live(object_type, wanted)
        missing = [object_id for object_id in wanted if object_id not in found]
        if missing and plans.deleted_path(object_type) is not None:
            found.update(await self.deleted(object_type, missing))
        return found

    async def _live(self, object_type: ObjectType, ids: list[str]) -> dict[str, ObjectState]:
        urls = [_selected(object_type, plans.item_path(object_type, i)) for i in ids]
        results = await self._getter.get_all(urls)
        raws = []
        for url, result in zip(urls, results, strict=True):
            if result.status in ABSENT:
                continue
            if not result.ok:
                raise_for(object_type, result, url)
            if isinstance(result.body, dict):
                raws.append(result.body)
        live_ids = [str(raw[object_type.key]) for raw in raws]
        links: dict[str, dict[str, list[str]]] = {object_id: {} for object_id in live_ids}
        for link in object_type.links:
            targets = await self._links.targets(object_type, link, live_ids)
            for object_id, ids_found in targets.items():
                links[object_id][link.name] = ids_found
        return {
            str(raw[object_type.key]): state_of(
                object_type, raw, links=links[str(raw[object_type.key])]
            )
            for raw in raws
        }

    async def deleted(self, object_type: ObjectType, ids: list[str]) -> dict[str, ObjectState]:
        paths = [plans.deleted_item_path(object_type, object_id) for object_id in ids]
        urls = [_selected(object_type, path) for path in paths if path is not None]
        if not urls:
            return {}
        results = await self._getter.get_all(urls)
        found: dict[str, ObjectState] = {}
        wanted_type = f"#microsoft.graph.{object_type.entity}"
        for url, result in zip(urls, results, strict=True):
            if result.status in ABSENT:
                continue
            if result.status == 403:
                raise DeletedItemsNotReadable(object_type.name, graph_error_of(result, url))
            if not result.ok:
                raise_for(object_type, result, url)
            raw = result.body if isinstance(result.body, dict) else None
            if raw is None:
                continue
            declared = raw.get("@odata.type")
            # /directory/deletedItems/{id} answers for any deleted directory object
            if declared and not object_type.derived_entities and declared != wanted_type:
                continue
            state = state_of(object_type, raw, deleted=True)
            found[state.object_id] = state
        return found

    async def _per_parent(
        self,
        object_type: ObjectType,
        ids: list[str],
        parents: Mapping[str, str],
    ) -> dict[str, ObjectState]:
        known = [object_id for object_id in ids if object_id in parents]
        urls = [plans.item_path(object_type, i, parents[i]) for i in known]
        found: dict[str, ObjectState] = {}
        for url, result in zip(urls, await self._getter.get_all(urls), strict=True):
            if result.status in ABSENT:
                continue
            if not result.ok:
                raise_for(object_type, result, url)
            if isinstance(result.body, dict):
                state = state_of(object_type, result.body, links={})
                found[state.object_id] = state
        unknown = [object_id for object_id in ids if object_id not in parents]
        if unknown:
            found.update(await self._under_owners(object_type, unknown))
        return found

    async def _under_owners(
        self, object_type: ObjectType, ids: list[str]
    ) -> dict[str, ObjectState]:
        """Objects no parent is known for, found under the object their id names: a few
        listings per id whatever the tenant's size. An id that names no object is not in
        the tenant: Graph has no path to it."""
        wanted = set(ids)
        urls = list(dict.fromkeys(url for i in ids for url in plans.id_owner_paths(object_type, i)))
        found: dict[str, ObjectState] = {}
        for url, result in zip(urls, await self._getter.get_all(urls), strict=True):
            if result.status in ABSENT:
                continue  # the owner is of another kind, or gone
            if not result.ok:
                raise_for(object_type, result, url)
            body = result.body if isinstance(result.body, dict) else {}
            for raw in await self._getter.rest_of(body):
                if str(raw.get(object_type.key)) in wanted:
                    state = state_of(object_type, raw, links={})
                    found[state.object_id] = state
        return found
