"""Applying a change's differences: forward to the current state, back to the backup."""

from __future__ import annotations

import pytest

from rewind_common.domain.apply import Direction, apply_change, apply_link_changes
from rewind_common.domain.diff import diff_object
from rewind_common.domain.equivalence import equivalent
from rewind_common.registry import get_type
from tests.unit.domain.resolver import FakeResolver
from tests.unit.domain.samples import body, edited, state

CA = get_type("conditionalAccessPolicy")


def test_forward_and_reverse_on_a_ca_policy() -> None:
    before = body("conditionalAccessPolicy")
    after = edited(before, "conditions.platforms", None)
    after = edited(
        after, "conditions.users.excludeGroups", ["3ee3a9de-0a86-4e12-a287-9769accf1ba2"]
    )
    after = edited(after, "sessionControls.signInFrequency.value", 12)
    change = diff_object(
        state("conditionalAccessPolicy", before), state("conditionalAccessPolicy", after)
    )
    assert change is not None

    forward = apply_change(before, change)
    reverse = apply_change(after, change, direction=Direction.REVERSE)

    assert equivalent(CA, forward, after)
    assert equivalent(CA, reverse, before)
    assert not equivalent(CA, forward, before)


def test_only_recoverable_leaves_what_a_recovery_cannot_write() -> None:
    user = body("user")
    user["onPremisesSyncEnabled"] = True
    now = edited(edited(user, "jobTitle", "Intern"), "preferredLanguage", "nl-NL")
    change = diff_object(state("user", user), state("user", now))
    assert change is not None

    after_recovery = apply_change(now, change, direction=Direction.REVERSE, only_recoverable=True)

    assert after_recovery["preferredLanguage"] == user["preferredLanguage"]
    assert after_recovery["jobTitle"] == "Intern"


def test_links_forward_and_reverse() -> None:
    before = {"members": ("a", "b"), "owners": ("o",)}
    after = {"members": ("b", "c"), "owners": ()}
    change = diff_object(state("group", links=before), state("group", links=after))
    assert change is not None

    assert apply_link_changes(before, change) == after
    assert apply_link_changes(after, change, direction=Direction.REVERSE) == before


def test_manager_forward_and_reverse() -> None:
    change = diff_object(
        state("user", links={"manager": "m1"}), state("user", links={"manager": "m2"})
    )
    assert change is not None

    assert apply_link_changes({"manager": "m1"}, change) == {"manager": "m2"}
    assert apply_link_changes({"manager": "m2"}, change, direction=Direction.REVERSE) == {
        "manager": "m1"
    }


def test_reverse_only_recoverable_skips_unresolvable_members() -> None:
    alive, gone = "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2"
    change = diff_object(
        state("group", links={"members": (alive, gone)}),
        state("group", links={"members": ()}),
        resolver=FakeResolver().add_live("user", alive),
    )
    assert change is not None

    restored = apply_link_changes(
        {"members": ()}, change, direction=Direction.REVERSE, only_recoverable=True
    )

    assert restored == {"members": (alive,)}


def test_applying_to_a_body_that_cannot_hold_the_path_fails_loudly() -> None:
    change = diff_object(
        state("conditionalAccessPolicy"),
        state(
            "conditionalAccessPolicy",
            edited(body("conditionalAccessPolicy"), "conditions.users.excludeGroups", ["x"]),
        ),
    )
    assert change is not None

    with pytest.raises(ValueError, match="not an object"):
        apply_change({"conditions": "broken"}, change)
