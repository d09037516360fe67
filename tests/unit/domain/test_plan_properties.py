"""Properties of plans over generated bodies: what Graph stores after a plan's writes is
the backup, on every property a recovery can write."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewind_common.domain.actions import PlannedAction
from rewind_common.domain.changes import Action
from rewind_common.domain.diff import diff_object
from rewind_common.domain.equivalence import (
    canonical_text,
    canonical_value,
    equivalent,
    values_equivalent,
)
from rewind_common.domain.paths import get_value
from rewind_common.domain.plan import RecoveryPlan
from rewind_common.domain.records import LinkValue, ObjectState
from rewind_common.registry import get_type
from tests.unit.domain.planning import AllExcept, graph_patch, plan
from tests.unit.domain.strategies import PER_TYPE, TYPES, state_pairs, states

CHILDREN = "authenticationMethodConfigurations"


def _links_after(live: ObjectState, links: list[PlannedAction]) -> dict[str, LinkValue]:
    result = dict(live.links)
    for action in links:
        assert action.link is not None
        assert action.link_changes is not None
        if not get_type(action.type).link(action.link).many:
            result[action.link] = action.link_changes.add[0] if action.link_changes.add else None
            continue
        current = set(result.get(action.link) or ())
        current = (current - set(action.link_changes.remove)) | set(action.link_changes.add)
        result[action.link] = tuple(sorted(current))
    return result


def _same_children(backup: ObjectState, stored: dict[str, object]) -> bool:
    # Method configurations the backup lacks cannot be deleted (the plan warns); compare
    # the ones it has, element by element.
    object_type = get_type(backup.type)
    ours = {c["id"]: c for c in backup.body.get(CHILDREN) or []}
    theirs = {c["id"]: c for c in stored.get(CHILDREN) or []}  # type: ignore[attr-defined]
    path = f"{CHILDREN}[]"
    return all(
        canonical_text(canonical_value(object_type, path, item))
        == canonical_text(canonical_value(object_type, path, theirs.get(key)))
        for key, item in ours.items()
    )


@pytest.mark.parametrize("type_name", TYPES)
@PER_TYPE
@given(data=st.data())
def test_applying_a_plan_restores_every_recoverable_property(
    data: st.DataObject, type_name: str
) -> None:
    backup, live = data.draw(state_pairs(type_name))
    object_type = get_type(type_name)
    recovery = plan([backup], [live])
    change = diff_object(backup, live, resolver=AllExcept())

    updates = [a for a in recovery.actions if a.action is Action.UPDATE and a.runnable]
    stored = dict(live.body)
    for update in updates:
        for request in update.requests:
            for name in request.body or {}:
                assert name == "@odata.type" or object_type.is_writable(name), name
        stored = graph_patch(type_name, stored, update.requests)
        assert update.after is not None

    for prop in change.properties if change is not None else ():
        if not prop.recoverable:
            continue
        if prop.path == "@odata.type":  # a derived type never changes: reported instead
            assert any(prop.path in w.reason for w in recovery.warnings)
            continue
        if prop.path == CHILDREN:
            assert _same_children(backup, stored)
            continue
        assert values_equivalent(
            object_type, prop.path, get_value(stored, prop.path), get_value(backup.body, prop.path)
        ), prop.path

    links = [a for a in recovery.actions if a.action is Action.LINKS and a.runnable]
    linked = _links_after(live, links)
    for action in links:
        assert action.link is not None
        wanted = backup.links.get(action.link)
        assert (linked.get(action.link) or None) == (wanted or None)


@pytest.mark.parametrize("type_name", TYPES)
@PER_TYPE
@given(data=st.data())
def test_a_plan_is_stable_and_the_applied_state_needs_no_further_plan(
    data: st.DataObject, type_name: str
) -> None:
    backup, live = data.draw(state_pairs(type_name))
    first = plan([backup], [live])

    assert plan([backup], [live]).to_dict() == first.to_dict()
    updates = [a for a in first.actions if a.action is Action.UPDATE and a.runnable]
    stored = dict(live.body)
    for update in updates:
        stored = graph_patch(type_name, stored, update.requests)
    links = [a for a in first.actions if a.action is Action.LINKS and a.runnable]
    recovered = ObjectState(type_name, live.object_id, stored, links=_links_after(live, links))
    again = plan([backup], [recovered])

    # Running a completed recovery again changes nothing: whatever remains is what the
    # first plan could not write either.
    assert all(not a.runnable or a.id not in {u.id for u in updates} for a in again.actions)
    assert not [a for a in again.actions if a.action is Action.LINKS and a.runnable]


@pytest.mark.parametrize("type_name", TYPES)
@PER_TYPE
@given(data=st.data())
def test_a_recreated_object_carries_every_writable_property_of_its_backup(
    data: st.DataObject, type_name: str
) -> None:
    backup = data.draw(states(type_name))
    object_type = get_type(type_name)
    recovery = plan([backup], [])
    recreate = next(a for a in recovery.actions if a.action is Action.RECREATE)

    if not recreate.runnable:  # not creatable, or a required property is missing
        assert recreate.blocked is not None
        assert recreate.requests == ()
        return
    (request,) = recreate.requests
    sent = dict(request.body or {})
    sent.pop("passwordProfile", None)
    kept = {k: v for k, v in backup.body.items() if object_type.is_writable(k, creating=True)}
    assert equivalent(object_type, sent, kept)
    assert RecoveryPlan.from_dict(json.loads(json.dumps(recovery.to_dict()))) == recovery
