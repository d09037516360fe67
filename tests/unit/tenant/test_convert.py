"""Graph's JSON to object states, delta items and link changes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewind_common.domain.normalize import normalize_body, volatile_part
from rewind_common.registry import get_type
from rewind_common.tenant import LinkOps
from rewind_common.tenant.convert import (
    body_of,
    delta_item,
    ids_of,
    link_ops,
    parts_of,
    state_of,
)

NAMES = st.sampled_from(
    [
        "id", "displayName", "createdDateTime", "signInActivity", "manager", "members",
        "@odata.type", "@odata.context", "manager@delta", "members@delta", "x@odata.bind",
        "jobTitle", "owners", "deletedDateTime",
    ]
)  # fmt: skip


@given(st.dictionaries(NAMES, st.none() | st.integers() | st.text(max_size=3), max_size=10))
@pytest.mark.parametrize("type_name", ["user", "group", "namedLocation", "organization"])
def test_bodies_are_normalized_as_the_domain_says_without_links(
    type_name: str, raw: dict[str, Any]
) -> None:
    object_type = get_type(type_name)
    navigations = {link.navigation for link in object_type.links}
    expected = normalize_body(object_type, {k: v for k, v in raw.items() if k not in navigations})
    assert body_of(object_type, raw) == expected
    assert parts_of(object_type, raw) == (expected, volatile_part(object_type, raw))


def test_volatile_properties_are_kept_beside_the_body_and_put_back_as_returned() -> None:
    """A user as Graph returns it for the registry's $select (the user resource's
    example values): the hashed body leaves out the volatile properties, the state keeps
    the set ones, and the answer comes back from the two."""
    user = get_type("user")
    raw: dict[str, Any] = dict.fromkeys(user.select)
    raw.update(
        {
            "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
            "displayName": "Adele Vance",
            "createdDateTime": "2021-03-25T21:06:37Z",
            "lastPasswordChangeDateTime": "2021-03-25T21:06:37Z",
            "signInSessionsValidFromDateTime": "2021-03-25T21:06:37Z",
            "businessPhones": [],
        }
    )
    state = state_of(user, raw, links={})

    assert not user.volatile & set(state.body)
    assert state.body == normalize_body(user, raw)
    assert state.volatile == {
        "createdDateTime": "2021-03-25T21:06:37Z",
        "lastPasswordChangeDateTime": "2021-03-25T21:06:37Z",
        "signInSessionsValidFromDateTime": "2021-03-25T21:06:37Z",
    }
    # null and missing are the same (DESIGN 6): a null volatile property is not kept
    assert state.as_returned == {
        name: value for name, value in raw.items() if value is not None or name not in user.volatile
    }
    item = delta_item(user, raw)
    assert item.state is not None
    assert item.state.volatile == state.volatile


def test_a_listed_object_keeps_its_links_as_sorted_ids() -> None:
    group = get_type("group")
    state = state_of(
        group,
        {"id": "g1", "displayName": "Admins", "members": [{"id": "u2"}, {"id": "u1"}]},
        links={"members": ["u2", "u1", "u2"], "owners": []},
    )
    assert state.body == {"id": "g1", "displayName": "Admins"}
    assert state.links == {"members": ("u1", "u2"), "owners": ()}


def test_delta_items_carry_link_additions_and_removals() -> None:
    raw = {
        "id": "g1",
        "displayName": "Admins",
        "members@delta": [
            {"@odata.type": "#microsoft.graph.user", "id": "u1"},
            {"@odata.type": "#microsoft.graph.user", "id": "u2", "@removed": {"reason": "deleted"}},
        ],
    }
    item = delta_item(get_type("group"), raw)
    assert item.state is not None
    assert item.state.body == {"id": "g1", "displayName": "Admins"}
    assert item.link_ops == {"members": LinkOps(added=("u1",), removed=("u2",))}
    assert LinkOps(("u3",), ("u1",)).apply({"u1", "u2"}) == {"u2", "u3"}


def test_removed_items_say_how() -> None:
    user = get_type("user")
    soft = delta_item(user, {"id": "u1", "@removed": {"reason": "changed"}})
    gone = delta_item(user, {"id": "u2", "@removed": {"reason": "deleted"}})
    assert soft.state is None
    assert soft.soft_deleted
    assert gone.removed == "deleted"
    assert not gone.soft_deleted


def test_a_manager_comes_as_one_object_or_a_list() -> None:
    assert ids_of({"@odata.type": "#microsoft.graph.user", "id": "m1"}) == ["m1"]
    assert ids_of([{"id": "a"}, {"id": "b"}, {"x": 1}]) == ["a", "b"]
    assert ids_of(None) == []
    ops = link_ops(get_type("user"), {"id": "u1", "manager@delta": [{"id": "m2"}]})
    assert ops == {"manager": LinkOps(added=("m2",))}


_ENTRY = st.one_of(
    st.fixed_dictionaries({"id": st.sampled_from(["a", "b", "c"])}),
    st.fixed_dictionaries(
        {"id": st.sampled_from(["a", "d"]), "@removed": st.just({"reason": "deleted"})}
    ),
    st.fixed_dictionaries({"@odata.type": st.just("#microsoft.graph.user")}),
    st.none(),
    st.text(max_size=3),
    st.integers(),
)


@given(st.one_of(st.lists(_ENTRY, max_size=6), _ENTRY.filter(lambda e: e is not None)))
def test_link_changes_are_read_whatever_shape_graph_sends(entries: Any) -> None:
    """Additions and removals in Graph's order; a single object counts as a list of
    one; entries without an id are passed over (no ``members@delta`` at all is no
    change, tested above)."""
    listed = [entries] if isinstance(entries, dict) else entries
    listed = listed if isinstance(listed, list) else []
    usable = [e for e in listed if isinstance(e, dict) and "id" in e]
    expected = LinkOps(
        added=tuple(e["id"] for e in usable if "@removed" not in e),
        removed=tuple(e["id"] for e in usable if "@removed" in e),
    )
    ops = link_ops(get_type("group"), {"id": "g1", "members@delta": entries})
    assert ops == {"members": expected}
