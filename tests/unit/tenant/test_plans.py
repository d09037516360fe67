"""How each registry type is read."""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewind_common.registry import get_type
from rewind_common.tenant import plans
from tests.unit.domain.samples import load


def test_delta_selects_the_links_graph_tracks() -> None:
    user = plans.delta_params(get_type("user"))["$select"].split(",")
    group = plans.delta_params(get_type("group"))["$select"].split(",")
    assert user[-1] == "manager"
    assert group[-2:] == ["members", "owners"]
    assert plans.delta_params(get_type("application")) == {}
    assert [link.name for link in plans.links_not_in_delta("application")] == ["owners"]
    assert plans.links_not_in_delta("group") == ()


def test_assignments_share_the_directory_objects_delta_with_users() -> None:
    assignment = get_type("appRoleAssignment")
    assert assignment.tracks_changes
    assert not assignment.has_delta  # read whole by listing, not by a first round
    assert plans.delta_params(assignment) == {
        "$filter": "isof('microsoft.graph.appRoleAssignment') or isof('microsoft.graph.user')"
    }
    assert plans.in_delta_of(assignment, {"@odata.type": "#microsoft.graph.appRoleAssignment"})
    assert not plans.in_delta_of(assignment, {"@odata.type": "#microsoft.graph.user"})
    assert plans.in_delta_of(assignment, {"id": "untyped"})
    # A type with a delta of its own keeps every item of its rounds.
    assert plans.in_delta_of(get_type("user"), {"@odata.type": "#microsoft.graph.group"})


def test_listings_expand_one_link_and_page_at_graphs_maxima() -> None:
    group = get_type("group")
    expanded = plans.expanded_link(group)
    assert expanded is not None
    params = plans.list_params(group, expand=expanded)
    assert params["$expand"] == "members($select=id)"
    assert params["$top"] == str(plans.EXPAND_PAGE)
    assert plans.list_params(get_type("user"))["$top"] == "999"
    assert "$top" not in plans.list_params(get_type("conditionalAccessPolicy"))


def test_deleted_items_paths() -> None:
    assert plans.deleted_path(get_type("user")) == "/directory/deletedItems/microsoft.graph.user"
    assert (
        plans.deleted_path(get_type("namedLocation"))
        == "/identity/conditionalAccess/deletedItems/namedLocations"
    )
    assert plans.deleted_item_path(get_type("conditionalAccessPolicy"), "p1") == (
        "/identity/conditionalAccess/deletedItems/policies/p1"
    )
    assert plans.deleted_path(get_type("organization")) is None
    assert plans.item_path(get_type("appRoleAssignment"), "a1", "sp1") == (
        "/servicePrincipals/sp1/appRoleAssignedTo/a1"
    )


@given(st.uuids())
def test_every_service_principal_falls_in_exactly_one_part_of_its_listing(app: UUID) -> None:
    parts = plans.list_parts("servicePrincipal")
    assert len(parts) == 16
    app_id = str(app)
    matching = [part for part, where in parts.items() if app_id.startswith(where.split("'")[1])]
    assert matching == [app_id[0]]
    assert plans.list_parts("application") == {}  # its appId takes only eq


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_an_assignment_is_found_under_the_principal_its_id_begins_with(number: int) -> None:
    """As in every app role assignment of Microsoft's docs."""
    documented = load(f"approleassignment-0{number}-response.json")
    paths = plans.id_owner_paths(get_type("appRoleAssignment"), documented["id"])
    principal = documented["principalId"]
    assert paths == [
        f"/users/{principal}/appRoleAssignments",
        f"/groups/{principal}/appRoleAssignments",
        f"/servicePrincipals/{principal}/appRoleAssignments",
    ]


def test_an_id_too_short_to_hold_a_guid_names_no_owner() -> None:
    assert plans.id_owner_paths(get_type("appRoleAssignment"), "QUJDREVGR0hJSktM") == []
    assert plans.id_owner_paths(get_type("user"), str(UUID(int=1))) == []
