"""Pure helpers for executing a plan exactly once, across crashes and re-runs.

The executor reads an object's live state before each action; these functions say
whether the action's effect is already there (a stopped run applied it, or someone else
did), which requests remain, and whether its dependencies allow it to run:

========== ==================================================================
action     already applied when
========== ==================================================================
update     every property it writes is equivalent, live, to its ``after``
restore    the object is active
softDelete the object is in deleted items or gone
recreate   its new id is in the id map, or a live object that did not match
           when the plan was made matches its natural key (:mod:`.natural_keys`)
links      every target it adds is linked and every target it removes is not
========== ==================================================================

Placeholders are filled from the id map first; one that cannot be filled means the
effect cannot be there yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from rewind_common.domain.actions import Outcome, PlannedAction
from rewind_common.domain.changes import Action
from rewind_common.domain.equivalence import canonical_text, canonical_value, values_equivalent
from rewind_common.domain.natural_keys import same_natural_key
from rewind_common.domain.records import ObjectState
from rewind_common.domain.remap import IdMap
from rewind_common.domain.requests import PlannedRequest, target_of
from rewind_common.registry import get_type


def is_applied(action: PlannedAction, live: ObjectState | None, id_map: IdMap) -> bool:
    """Whether ``action``'s effect is in place, given its object's live state (for a
    re-creation: a candidate object, or ``None``)."""
    if action.action is Action.SOFT_DELETE:
        return live is None or live.deleted
    if action.action is Action.RESTORE:
        return live is not None and not live.deleted
    if action.action is Action.RECREATE:
        if action.object_id in id_map:
            return True
        return live is not None and _is_recreation(action, live, id_map)
    if live is None or live.deleted:
        return False
    if action.action is Action.LINKS:
        return _links_applied(action, live, id_map)
    return _properties_applied(action, live, id_map)


def find_recreated(
    action: PlannedAction, candidates: Iterable[ObjectState], id_map: IdMap
) -> ObjectState | None:
    """The live object a stopped run created for this re-creation, if one is there."""
    for candidate in candidates:
        if _is_recreation(action, candidate, id_map):
            return candidate
    return None


def _is_recreation(action: PlannedAction, live: ObjectState, id_map: IdMap) -> bool:
    if live.deleted or live.object_id in action.preexisting or live.type != action.type:
        return False
    if not isinstance(action.after, Mapping):
        return False
    return same_natural_key(action.type, id_map.fill(action.after), live.body)


def record_created(action: PlannedAction, response: Mapping[str, Any], id_map: IdMap) -> IdMap:
    """The id map with the new id (and, for an application, the new appId) Graph returned
    for a re-creation; store it before the next write."""
    if action.action is not Action.RECREATE:
        raise ValueError(f"{action.id} is not a re-creation")
    updated = id_map.with_new(action.object_id, str(response["id"]))
    if action.old_app_id is not None and isinstance(response.get("appId"), str):
        updated = updated.with_new(action.old_app_id, response["appId"])
    return updated


def _properties_applied(action: PlannedAction, live: ObjectState, id_map: IdMap) -> bool:
    object_type = get_type(action.type)
    after = id_map.fill(action.after) if isinstance(action.after, Mapping) else {}
    children = {c.property: c.key for c in object_type.children}
    for prop in action.properties:
        if prop in children:
            if not _children_applied(action.type, prop, children[prop], after, live.body):
                return False
        elif not values_equivalent(object_type, prop, after.get(prop), live.body.get(prop)):
            return False
    return True


def _children_applied(
    type_name: str, prop: str, key: str, after: Mapping[str, Any], live: Mapping[str, Any]
) -> bool:
    # Only the elements the backup has: the others cannot be deleted and are left alone.
    object_type = get_type(type_name)
    path = f"{prop}[]"
    current = {str(i.get(key)): i for i in live.get(prop) or [] if isinstance(i, Mapping)}
    for item in after.get(prop) or []:
        if not isinstance(item, Mapping):
            continue
        wanted = canonical_text(canonical_value(object_type, path, item))
        found = canonical_text(canonical_value(object_type, path, current.get(str(item.get(key)))))
        if wanted != found:
            return False
    return True


def _present(live: ObjectState, link: str) -> set[str]:
    value = live.links.get(link)
    if isinstance(value, str):
        return {value}
    return set(value or ())


def _links_applied(action: PlannedAction, live: ObjectState, id_map: IdMap) -> bool:
    delta = action.link_changes
    if delta is None or action.link is None:
        return True
    present = _present(live, action.link)
    adds = {id_map.rewrite(t) for t in delta.add}
    removes = {id_map.rewrite(t) for t in delta.remove}
    return adds <= present and not (removes & present)


def pending_requests(
    action: PlannedAction,
    live: ObjectState | None,
    id_map: IdMap,
    *,
    graph_base_url: str,
    password: str | None = None,
) -> tuple[PlannedRequest, ...]:
    """The requests still to send for ``action``, placeholders filled.

    A ``links`` action sends only what is missing (Graph answers 400 to a link that
    already exists, and 404 to removing one that does not); any other action sends all
    its requests unless it is already applied. Raises ``UnresolvedPlaceholder`` when an
    object it needs has not been re-created yet.
    """
    if action.action is not Action.LINKS and is_applied(action, live, id_map):
        return ()
    resolved = tuple(
        r.resolved(id_map, graph_base_url=graph_base_url, password=password)
        for r in action.requests
    )
    if action.action is not Action.LINKS or live is None or action.link is None:
        return resolved
    return tuple(_still_needed(resolved, live, action.link))


def _still_needed(
    requests: Iterable[PlannedRequest], live: ObjectState, link: str
) -> Iterable[PlannedRequest]:
    present = _present(live, link)
    bind = f"{link}@odata.bind"
    for request in requests:
        body = request.body or {}
        if request.method == "PATCH" and bind in body:
            missing = [url for url in body[bind] if target_of(url) not in present]
            if missing:
                yield PlannedRequest(request.method, request.url, {**body, bind: missing})
        elif request.method in ("POST", "PUT"):
            if target_of(str(body.get("@odata.id", ""))) not in present:
                yield request
        elif request.method == "DELETE":
            single = request.url.endswith(f"/{link}/$ref")
            gone = not present if single else target_of(request.url) not in present
            if not gone:
                yield request
        else:
            yield request


class Readiness(StrEnum):
    READY = "ready"
    WAITING = "waiting"  # a dependency has not finished
    BLOCKED = "blocked"  # a dependency failed or was skipped: skip this one too


def readiness(action: PlannedAction, outcomes: Mapping[str, Outcome | str]) -> Readiness:
    """Whether ``action`` may run, given the outcomes recorded so far by action id."""
    state = Readiness.READY
    for dependency in action.depends_on:
        outcome = outcomes.get(dependency)
        if outcome in (Outcome.FAILED, Outcome.SKIPPED):
            return Readiness.BLOCKED
        if outcome != Outcome.APPLIED:
            state = Readiness.WAITING
    return state
