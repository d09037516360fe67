"""Helpers for recovery-plan tests: a tenant where everything not named exists, plans
built over states, and a small model of how Graph applies PATCH requests."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rewind_common.domain.actions import PlannedAction
from rewind_common.domain.changes import Action
from rewind_common.domain.plan import RecoveryPlan, build_plan
from rewind_common.domain.records import JsonObject, ObjectState
from rewind_common.domain.requests import PlannedRequest
from rewind_common.domain.scope import Scope
from rewind_common.registry import get_type


@dataclass
class AllExcept:
    """A tenant where every object referenced by id, and every application referenced by
    appId, exists except ``missing`` ones; nothing else (names, other keys) is taken."""

    missing: set[str] = field(default_factory=set)

    def exists_live(self, type: str, value: str, by: str) -> bool:
        known = by == "id" or (by == "appId" and type == "application")
        return known and value not in self.missing

    def will_exist(self, type: str, value: str, by: str) -> bool:
        return False


def plan(
    backup: Iterable[ObjectState],
    live: Iterable[ObjectState],
    *,
    missing: Iterable[str] = (),
    scope: Scope | None = None,
    break_glass: Sequence[str] = (),
) -> RecoveryPlan:
    """A plan where references to objects outside the states resolve, except ``missing``
    ones and objects the backup has but the live states do not (hard-deleted)."""
    backup, live = list(backup), list(live)
    live_ids = {s.object_id for s in live}
    gone = {s.object_id for s in backup if s.object_id not in live_ids}
    resolver = AllExcept(set(missing) | gone)
    return build_plan(backup, live, resolver=resolver, scope=scope, break_glass=break_glass)


def actions(
    recovery: RecoveryPlan, action: Action | None = None, type_name: str | None = None
) -> list[PlannedAction]:
    return [
        a
        for a in recovery.actions
        if (action is None or a.action is action) and (type_name is None or a.type == type_name)
    ]


def only(recovery: RecoveryPlan, action: Action, type_name: str | None = None) -> PlannedAction:
    found = actions(recovery, action, type_name)
    assert len(found) == 1, [a.id for a in recovery.actions]
    return found[0]


def with_id(data: JsonObject, object_id: str, **values: Any) -> JsonObject:
    out = copy.deepcopy(data)
    out["id"] = object_id
    out.update(values)
    return out


def graph_patch(type_name: str, body: JsonObject, requests: Iterable[PlannedRequest]) -> JsonObject:
    """What Graph stores after the PATCH requests: each top-level property sent replaces
    the stored one; a child-collection PATCH replaces the members of one element."""
    object_type = get_type(type_name)
    children = {c.property: c.key for c in object_type.children}
    result = copy.deepcopy(body)
    for request in requests:
        assert request.method == "PATCH", request
        sent = request.body or {}
        child = next((p for p in children if f"/{p}/" in request.url), None)
        if child is None:
            for name, value in sent.items():
                if name != "@odata.type":
                    result[name] = copy.deepcopy(value)
            continue
        element_id = request.url.rsplit("/", 1)[1]
        items = result.setdefault(child, [])
        element = next((i for i in items if str(i.get(children[child])) == element_id), None)
        if element is None:
            element = {children[child]: element_id}
            items.append(element)
        element.update(copy.deepcopy(sent))
    return result
