"""Reading back what an action changed: the live state of its object, and, for a
re-creation, the objects that may be the one a stopped run created.

A re-creation's new id is stored as soon as Graph returns it; the one window where that
cannot help (the process dies between Graph creating the object and the id being
stored) is closed by looking the object up by its natural key
(``domain.natural_keys``): a match that was not there when the plan was made is the
object the stopped run created.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rewind_common.domain.actions import PlannedAction
from rewind_common.domain.changes import Action
from rewind_common.domain.natural_keys import natural_key
from rewind_common.domain.records import ObjectState
from rewind_common.domain.remap import IdMap
from rewind_common.graph.client import GraphClient
from rewind_common.registry import Listing, get_type
from rewind_common.tenant import TenantReader
from rewind_common.tenant.convert import state_of

#: Natural-key properties Graph cannot ``$filter`` on a collection by: listed instead.
_LISTED = frozenset({"appRoleAssignment"})


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class LiveLookup:
    def __init__(self, reader: TenantReader, graph: GraphClient) -> None:
        self._reader = reader
        self._graph = graph

    async def state(self, action: PlannedAction, id_map: IdMap) -> ObjectState | None:
        """The live state of the object an action writes (by its new id when re-created
        by this recovery), active or deleted, or ``None`` when it is gone."""
        object_id = id_map.get(action.object_id) or action.object_id
        parents: dict[str, str] = {}
        body = _body(action, id_map)
        if isinstance(body.get("resourceId"), str):
            parents[object_id] = str(body["resourceId"])
        found = await self._reader.get(action.type, [object_id], parents=parents)
        return found.get(object_id)

    async def candidates(self, action: PlannedAction, id_map: IdMap) -> list[ObjectState]:
        """Active objects sharing the natural key of what a re-creation writes."""
        if action.action is not Action.RECREATE:
            return []
        wanted = _body(action, id_map)
        key = natural_key(action.type, wanted)
        if key is None:
            return []
        first = wanted.get(key.properties[0])
        if not isinstance(first, str) or "{{" in first:
            return []
        object_type = get_type(action.type)
        if action.type in _LISTED or object_type.listing is Listing.PER_PARENT:
            resource = wanted.get("resourceId")
            if not isinstance(resource, str):
                return []
            path = object_type.path.replace("{parentId}", resource)
            params = None
        else:
            path = object_type.path
            params = {"$filter": f"{key.properties[0]} eq {_quoted(first)}"}
        found: list[ObjectState] = []
        async for page in self._graph.pages(path, params):
            found.extend(state_of(object_type, raw, links={}) for raw in page.items)
        return found


def _body(action: PlannedAction, id_map: IdMap) -> Mapping[str, Any]:
    value = action.after if isinstance(action.after, Mapping) else action.before
    if not isinstance(value, Mapping):
        return {}
    filled = id_map.fill(value)
    return filled if isinstance(filled, Mapping) else {}
