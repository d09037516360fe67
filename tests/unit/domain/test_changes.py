"""The change entry's JSON shape (DESIGN section 7) and its storage round trip."""

from __future__ import annotations

import json

from rewind_common.domain.changes import Action, Change, ChangeKind
from rewind_common.domain.diff import diff_object
from tests.unit.domain.samples import body, edited, state

REQUIRED_KEYS = {
    "type",
    "objectId",
    "displayName",
    "change",
    "action",
    "properties",
    "links",
    "recoverable",
    "reason",
}


def _ca_change() -> Change:
    before = body("conditionalAccessPolicy")
    after = edited(
        before, "conditions.users.excludeGroups", ["3ee3a9de-0a86-4e12-a287-9769accf1ba2"]
    )
    change = diff_object(
        state("conditionalAccessPolicy", before), state("conditionalAccessPolicy", after)
    )
    assert change is not None
    return change


def test_change_json_has_the_documented_shape() -> None:
    data = _ca_change().to_dict()

    assert set(data) >= REQUIRED_KEYS
    assert data["type"] == "conditionalAccessPolicy"
    assert data["objectId"] == "6b5e999b-0ba8-4186-a106-e0296c1c4358"
    assert data["displayName"] == "Demo app for documentation"
    assert (data["change"], data["action"]) == ("updated", "update")
    assert data["properties"] == [
        {
            "path": "conditions.users.excludeGroups",
            "backup": [],
            "current": ["3ee3a9de-0a86-4e12-a287-9769accf1ba2"],
            "recoverable": True,
            "reason": None,
            "added": ["3ee3a9de-0a86-4e12-a287-9769accf1ba2"],
            "removed": [],
        }
    ]
    assert data["links"] == {}
    assert (data["recoverable"], data["reason"]) == (True, None)
    json.dumps(data)  # plain JSON, storable as is


def test_links_json_lists_ids_added_and_removed() -> None:
    change = diff_object(
        state("group", links={"members": ("a", "b"), "owners": ("o",)}),
        state("group", links={"members": ("b", "c"), "owners": ("o",)}),
    )

    assert change is not None
    assert change.to_dict()["links"] == {
        "members": {"added": ["c"], "removed": ["a"], "recoverable": True, "reason": None}
    }


def test_every_kind_and_action_serialises_to_the_documented_strings() -> None:
    assert {k.value for k in ChangeKind} == {
        "updated",
        "softDeleted",
        "created",
        "restored",
        "hardDeleted",
        "linksChanged",
    }
    assert {a.value for a in Action} == {"update", "restore", "softDelete", "recreate", "links"}


def test_round_trip_through_storage() -> None:
    changes = [
        _ca_change(),
        diff_object(None, state("group")),
        diff_object(state("application"), None),
        diff_object(
            state("group", links={"members": ("a",)}), state("group", links={"members": ()})
        ),
    ]
    for change in changes:
        assert change is not None
        stored = json.loads(json.dumps(change.to_dict()))
        assert Change.from_dict(stored) == change
