"""Planner fixes found while recovering against the emulator."""

from __future__ import annotations

from rewind_common.domain.diff import diff_object
from rewind_common.domain.equivalence import values_equivalent
from rewind_common.domain.records import ObjectState
from rewind_common.registry import get_type

GROUP = "00460d69-2ed6-4411-9b49-156137c60e98"


def test_odata_type_is_not_drift_for_a_type_without_derived_types() -> None:
    # Deleted items answer with @odata.type for every type; a listing does not.
    backup = ObjectState("group", GROUP, {"id": GROUP, "displayName": "Finance"})
    in_bin = ObjectState(
        "group",
        GROUP,
        {"id": GROUP, "displayName": "Finance", "@odata.type": "#microsoft.graph.group"},
        deleted=True,
    )

    change = diff_object(backup, in_bin)

    assert change is not None
    assert change.change.value == "softDeleted"
    assert change.properties == ()


def test_odata_type_still_tells_derived_types_apart() -> None:
    location = get_type("namedLocation")

    assert not values_equivalent(location, "@odata.type", "#microsoft.graph.ipNamedLocation", None)
