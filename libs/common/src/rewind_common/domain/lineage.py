"""A backup seen in the tenant's current ids.

A recovery re-creates a hard-deleted object under a new id. A later recovery from a
backup taken before that must not take the object for gone (and re-create it again),
nor its new incarnation for one created since (and delete it): the backup is read
through the lineage of every earlier re-creation (old id → newest id), its objects
renamed and its references and links rewritten, before anything is compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType

from rewind_common.domain.records import ObjectState
from rewind_common.domain.references import rewrite_links, rewrite_references
from rewind_common.domain.scope import Scope
from rewind_common.registry import get_type

#: Properties that may embed an application's own appId (``api://{appId}``).
_APP_ID_HOLDERS = ("identifierUris", "servicePrincipalNames")


def widen_scope(scope: Scope, lineage: Mapping[str, str]) -> Scope:
    """The scope with the current id of every re-created object it names, and the
    backup's id of every current one."""
    if not lineage or not scope.objects:
        return scope
    originals: dict[str, set[str]] = {}
    for old, new in lineage.items():
        originals.setdefault(new, set()).add(old)
    objects = {
        type_name: frozenset(
            {
                *ids,
                *(lineage[i] for i in ids if i in lineage),
                *(old for i in ids for old in originals.get(i, ())),
            }
        )
        for type_name, ids in scope.objects.items()
    }
    return Scope(types=scope.types, objects=MappingProxyType(objects))


def in_current_ids(states: Iterable[ObjectState], lineage: Mapping[str, str]) -> list[ObjectState]:
    """Backup states renamed and rewritten through ``lineage``; an object whose new id
    the backup also holds keeps its own id (the backup already knows the new one)."""
    found = list(states)
    if not lineage:
        return found
    present = {state.object_id for state in found}
    mapping = {old: new for old, new in lineage.items() if new not in present}
    out: list[ObjectState] = []
    for state in found:
        object_type = get_type(state.type)
        body = rewrite_references(object_type, state.body, mapping)
        new_id = mapping.get(state.object_id, state.object_id)
        if object_type.key in body:
            body[object_type.key] = new_id
        old_app = body.get("appId")
        if state.type == "application" and isinstance(old_app, str) and old_app in mapping:
            new_app = mapping[old_app]
            for name in _APP_ID_HOLDERS:
                if isinstance(body.get(name), list):
                    body[name] = [
                        v.replace(old_app, new_app) if isinstance(v, str) else v for v in body[name]
                    ]
        out.append(
            replace(
                state,
                object_id=new_id,
                body=body,
                links=rewrite_links(state.links, mapping),
            )
        )
    return out


def backup_ids(object_ids: Iterable[str], lineage: Mapping[str, str]) -> list[str]:
    """The ids a backup may know these current objects by (their own, and every id
    they were re-created from)."""
    wanted = set(object_ids)
    return sorted(wanted | {old for old, new in lineage.items() if new in wanted})
