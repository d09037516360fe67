"""Properties of the diff over generated bodies of several types."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewind_common.domain.apply import Direction, apply_change, apply_link_changes
from rewind_common.domain.diff import diff_object
from rewind_common.domain.equivalence import comparison_form, equivalent
from rewind_common.domain.paths import get_value
from rewind_common.domain.records import ObjectState
from rewind_common.registry import ALL_TYPES, get_type
from tests.unit.domain.strategies import (
    BODIES,
    LINKS,
    PER_TYPE,
    TYPES,
    respell_empties,
    shuffle_unordered,
    state_pairs,
    states,
    touch_volatile,
)


def _with_body(state: ObjectState, body: dict[str, object]) -> ObjectState:
    return ObjectState(state.type, state.object_id, body, links=state.links)


@pytest.mark.parametrize("type_name", TYPES)
@PER_TYPE
@given(data=st.data())
def test_diff_of_a_state_with_itself_is_empty(data: st.DataObject, type_name: str) -> None:
    state = data.draw(states(type_name))

    assert diff_object(state, copy.deepcopy(state)) is None


@pytest.mark.parametrize("type_name", TYPES)
@PER_TYPE
@given(data=st.data(), rnd=st.randoms(use_true_random=False))
def test_reordering_unordered_collections_changes_nothing(
    data: st.DataObject, type_name: str, rnd: object
) -> None:
    object_type = get_type(type_name)
    state = data.draw(states(type_name))
    shuffled = shuffle_unordered(object_type, state.body, rnd)  # type: ignore[arg-type]

    assert diff_object(state, _with_body(state, shuffled)) is None
    assert equivalent(object_type, state.body, shuffled)


@pytest.mark.parametrize("type_name", TYPES)
@PER_TYPE
@given(data=st.data(), rnd=st.randoms(use_true_random=False))
def test_null_missing_and_empty_substitutions_change_nothing(
    data: st.DataObject, type_name: str, rnd: object
) -> None:
    state = data.draw(states(type_name))
    respelled = respell_empties(state.body, rnd)  # type: ignore[arg-type]

    assert diff_object(state, _with_body(state, respelled)) is None


@pytest.mark.parametrize("type_name", TYPES)
@PER_TYPE
@given(data=st.data(), rnd=st.randoms(use_true_random=False))
def test_volatile_and_server_set_changes_change_nothing(
    data: st.DataObject, type_name: str, rnd: object
) -> None:
    object_type = get_type(type_name)
    state = data.draw(states(type_name))
    touched = touch_volatile(object_type, dict(state.body), rnd)  # type: ignore[arg-type]

    assert diff_object(state, _with_body(state, touched)) is None


@pytest.mark.parametrize("type_name", TYPES)
@PER_TYPE
@given(data=st.data())
def test_a_change_is_reported_exactly_when_the_states_differ(
    data: st.DataObject, type_name: str
) -> None:
    a, b = data.draw(state_pairs(type_name))
    object_type = get_type(type_name)
    # An immutable object is replaced, never changed in place: another assignment has
    # another id, so the properties of one are never compared.
    same_body = object_type.immutable or equivalent(object_type, a.body, b.body)
    same = same_body and dict(a.links) == dict(b.links)

    assert (diff_object(a, b) is None) is same


@pytest.mark.parametrize("type_name", TYPES)
@PER_TYPE
@given(data=st.data())
def test_applying_the_changes_of_diff_a_b_to_a_yields_b(
    data: st.DataObject, type_name: str
) -> None:
    a, b = data.draw(state_pairs(type_name))
    object_type = get_type(type_name)
    change = diff_object(a, b)
    if change is None:
        return

    forward = apply_change(a.body, change)
    backward = apply_change(b.body, change, direction=Direction.REVERSE)

    assert comparison_form(object_type, forward) == comparison_form(object_type, b.body)
    assert comparison_form(object_type, backward) == comparison_form(object_type, a.body)
    assert apply_link_changes(a.links, change) == b.links
    assert apply_link_changes(b.links, change, direction=Direction.REVERSE) == a.links


@pytest.mark.parametrize("type_name", TYPES)
@PER_TYPE
@given(data=st.data())
def test_reported_values_are_the_stored_ones(data: st.DataObject, type_name: str) -> None:
    a, b = data.draw(state_pairs(type_name))
    change = diff_object(a, b)
    if change is None:
        return

    for prop in change.properties:
        assert prop.backup == get_value(a.body, prop.path)
        assert prop.current == get_value(b.body, prop.path)


def test_every_registered_type_has_strategies() -> None:
    # Without them a new type would escape every property above.
    assert sorted(BODIES) == sorted(t.name for t in ALL_TYPES)
    assert sorted(LINKS) == sorted(t.name for t in ALL_TYPES if t.links)


@pytest.mark.parametrize("type_name", TYPES)
@PER_TYPE
@given(data=st.data())
def test_generated_states_carry_every_link_and_their_key(
    data: st.DataObject, type_name: str
) -> None:
    object_type = get_type(type_name)
    state = data.draw(states(type_name))

    assert set(state.links) == {link.name for link in object_type.links}
    assert state.object_id == state.body[object_type.key]
