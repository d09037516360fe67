"""DESIGN section 6's table, row by row, for every type in the registry."""

from __future__ import annotations

import copy

import pytest

from rewind_common.domain.changes import Action, ChangeKind
from rewind_common.domain.diff import diff_object
from rewind_common.domain.records import LinkValue
from rewind_common.registry import ALL_TYPES, ObjectType, get_type
from tests.unit.domain.samples import EDITS, LINKS, body, edited, load, state

ALL = [t.name for t in ALL_TYPES]
RESTORABLE = [t.name for t in ALL_TYPES if t.restorable]
LINKED = [t.name for t in ALL_TYPES if t.links]
MUTABLE = [t.name for t in ALL_TYPES if not t.immutable]


def _type(name: str) -> ObjectType:
    return get_type(name)


@pytest.mark.parametrize("type_name", ALL)
def test_identical_states_are_no_change(type_name: str) -> None:
    assert diff_object(state(type_name), state(type_name)) is None


@pytest.mark.parametrize("type_name", MUTABLE)
def test_a_changed_property_is_an_update_with_both_values(type_name: str) -> None:
    path, value = EDITS[type_name]
    before = body(type_name)
    change = diff_object(state(type_name, before), state(type_name, edited(before, path, value)))

    assert change is not None
    assert (change.change, change.action) == (ChangeKind.UPDATED, Action.UPDATE)
    assert change.paths == (path,)
    prop = change.property_at(path)
    assert prop.current == value
    assert prop.backup != value
    assert change.recoverable
    assert change.object_id == before[_type(type_name).key]


def test_immutable_app_role_assignment_never_reports_an_update() -> None:
    path, value = EDITS["appRoleAssignment"]
    before = body("appRoleAssignment")
    after = edited(before, path, value)

    assert (
        diff_object(state("appRoleAssignment", before), state("appRoleAssignment", after)) is None
    )


@pytest.mark.parametrize("type_name", LINKED)
def test_only_links_differing_is_links_changed(type_name: str) -> None:
    backup_links = LINKS[type_name]
    current_links: dict[str, LinkValue] = {
        name: None if isinstance(v, str) else () for name, v in backup_links.items()
    }
    change = diff_object(state(type_name), state(type_name, links=current_links))

    assert change is not None
    assert (change.change, change.action) == (ChangeKind.LINKS_CHANGED, Action.LINKS)
    assert change.properties == ()
    for name, value in backup_links.items():
        expected = (value,) if isinstance(value, str) else value or ()
        assert change.links[name].removed == tuple(sorted(expected))
        assert change.links[name].added == ()
    assert change.recoverable


@pytest.mark.parametrize("type_name", [t for t in LINKED if t in MUTABLE])
def test_property_and_link_differences_share_one_update(type_name: str) -> None:
    path, value = EDITS[type_name]
    before = body(type_name)
    current = state(type_name, edited(before, path, value), links={})
    change = diff_object(state(type_name, before), current)

    assert change is not None
    assert change.change is ChangeKind.UPDATED
    assert change.paths == (path,)
    assert set(change.links) == set(LINKS[type_name])


@pytest.mark.parametrize("type_name", RESTORABLE)
def test_soft_deleted_since_the_backup_is_restored(type_name: str) -> None:
    change = diff_object(state(type_name), state(type_name, deleted=True))

    assert change is not None
    assert (change.change, change.action) == (ChangeKind.SOFT_DELETED, Action.RESTORE)
    assert change.properties == ()
    assert change.recoverable


@pytest.mark.parametrize("type_name", RESTORABLE)
def test_soft_deleted_and_edited_lists_the_update_to_apply_after_the_restore(
    type_name: str,
) -> None:
    path, value = EDITS[type_name]
    before = body(type_name)
    change = diff_object(
        state(type_name, before), state(type_name, edited(before, path, value), deleted=True)
    )

    assert change is not None
    assert change.action is Action.RESTORE
    assert change.paths == (path,)


@pytest.mark.parametrize("type_name", ALL)
def test_hard_deleted_is_recreated_where_graph_can_create_the_type(type_name: str) -> None:
    change = diff_object(state(type_name), None)

    assert change is not None
    assert (change.change, change.action) == (ChangeKind.HARD_DELETED, Action.RECREATE)
    assert change.recoverable is _type(type_name).creatable
    assert change.reason is not None
    if _type(type_name).creatable:
        assert "new id" in change.reason
    else:
        assert "cannot be created" in change.reason


@pytest.mark.parametrize("type_name", LINKED)
def test_hard_deleted_lists_the_links_to_add_back(type_name: str) -> None:
    change = diff_object(state(type_name), None)

    assert change is not None
    assert set(change.links) == set(LINKS[type_name])
    assert all(link.removed and not link.added for link in change.links.values())


# created after the backup: soft-deleted, except where that cannot be undone or done
CREATED_RECOVERABLE = {
    "user": True,
    "group": False,  # the sample is a security group: its delete would be permanent
    "application": True,
    "servicePrincipal": True,
    "namedLocation": True,
    "conditionalAccessPolicy": True,
    "authorizationPolicy": False,
    "authenticationMethodsPolicy": False,
    "organization": False,
    "oAuth2PermissionGrant": True,
    "appRoleAssignment": True,
}


def test_the_created_expectations_cover_every_type() -> None:
    assert set(CREATED_RECOVERABLE) == set(ALL)


@pytest.mark.parametrize("type_name", ALL)
def test_created_after_the_backup_is_soft_deleted(type_name: str) -> None:
    change = diff_object(None, state(type_name))

    assert change is not None
    assert (change.change, change.action) == (ChangeKind.CREATED, Action.SOFT_DELETE)
    assert change.recoverable is CREATED_RECOVERABLE[type_name]
    assert change.properties == ()
    assert change.links == {}


@pytest.mark.parametrize("type_name", RESTORABLE)
def test_restored_since_a_backup_that_had_it_deleted_is_soft_deleted(type_name: str) -> None:
    change = diff_object(state(type_name, deleted=True), state(type_name))

    assert change is not None
    assert (change.change, change.action) == (ChangeKind.RESTORED, Action.SOFT_DELETE)


@pytest.mark.parametrize("type_name", RESTORABLE)
def test_deleted_in_both_is_no_change(type_name: str) -> None:
    path, value = EDITS[type_name]
    before = body(type_name)
    after = edited(before, path, value)

    assert (
        diff_object(state(type_name, before, deleted=True), state(type_name, after, deleted=True))
        is None
    )


@pytest.mark.parametrize("type_name", RESTORABLE)
def test_deleted_in_the_backup_and_purged_now_is_no_change(type_name: str) -> None:
    assert diff_object(state(type_name, deleted=True), None) is None


@pytest.mark.parametrize("type_name", RESTORABLE)
def test_absent_from_the_backup_and_deleted_now_is_no_change(type_name: str) -> None:
    assert diff_object(None, state(type_name, deleted=True)) is None


def test_absent_on_both_sides_is_no_change() -> None:
    assert diff_object(None, None) is None


def test_states_of_different_objects_are_refused() -> None:
    other = copy.deepcopy(body("user"))
    other["id"] = "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2"

    with pytest.raises(ValueError, match="cannot compare"):
        diff_object(state("user"), state("user", other))


def test_a_microsoft_365_group_created_after_the_backup_is_soft_deleted() -> None:
    m365 = body("group", "group-m365-01-response.json")
    change = diff_object(None, state("group", m365))

    assert change is not None
    assert change.recoverable
    assert change.display_name == load("group-m365-01-response.json")["displayName"]


def test_soft_deleted_links_are_compared_only_where_the_deleted_item_records_them() -> None:
    unreadable = diff_object(state("group"), state("group", deleted=True, links={}))
    recorded = diff_object(
        state("group"), state("group", deleted=True, links={"members": (), "owners": ()})
    )

    assert unreadable is not None
    assert unreadable.links == {}
    assert recorded is not None
    assert set(recorded.links) == {"members", "owners"}
