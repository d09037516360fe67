"""Plans run in dependency order (DESIGN section 6), with stable ids."""

from __future__ import annotations

import random
from typing import Any

from rewind_common.domain.actions import BlockCode
from rewind_common.domain.changes import Action
from rewind_common.domain.plan_order import stages
from rewind_common.domain.records import ObjectState
from rewind_common.domain.remap import new_app_id_token, new_id_token
from tests.unit.domain.planning import actions, only, plan, with_id
from tests.unit.domain.samples import body, state

GROUP = "21d05557-b7b6-418f-86fa-a3118d751be4"
OTHER_GROUP = "3ee3a9de-0a86-4e12-a287-9769accf1ba2"
USER = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
POLICY = "6b5e999b-0ba8-4186-a106-e0296c1c4358"
LOCATION = "0854951d-5fc0-4eb1-b392-9b2c9d7949c2"
SP = "59e617e5-e447-4adc-8b88-00af644d7c92"


def _policy(**users: list[str]) -> dict[str, Any]:
    data = body("conditionalAccessPolicy")
    data["conditions"]["users"].update(users)
    return data


def _recreated_group_scenario() -> tuple[list[ObjectState], list[ObjectState]]:
    group = state("group", links={"members": (USER,), "owners": ()})
    other = state(
        "group",
        with_id(body("group"), OTHER_GROUP, mailNickname="other"),
        links={"members": (GROUP,), "owners": ()},
    )
    policy = state("conditionalAccessPolicy", _policy(excludeGroups=[GROUP]))
    emptied = state("group", dict(other.body), links={"members": (), "owners": ()})
    return [group, other, policy], [emptied, policy]


def test_a_recreated_group_comes_first_and_every_reference_uses_its_placeholder() -> None:
    backup, live = _recreated_group_scenario()
    recovery = plan(backup, live)

    recreate = only(recovery, Action.RECREATE)
    policy = only(recovery, Action.UPDATE, "conditionalAccessPolicy")
    membership = next(a for a in actions(recovery, Action.LINKS) if a.object_id == OTHER_GROUP)
    token = new_id_token(GROUP)

    assert recovery.actions[0] == recreate
    # the policy did not change itself: its reference to the old id is repaired
    sent = policy.requests[0].body
    assert sent is not None
    assert sent["conditions"]["users"]["excludeGroups"] == [token]
    assert policy.depends_on == (recreate.id,)
    assert membership.requests[0].body == {
        "members@odata.bind": [f"{{{{graph}}}}/directoryObjects/{token}"]
    }
    assert membership.depends_on == (recreate.id,)
    order = [a.id for a in recovery.actions]
    assert order.index(recreate.id) < order.index(membership.id) < order.index(policy.id)


def test_phases_follow_the_design_order() -> None:
    names = stages()
    writes = names[: names.index("softDelete:organization")]

    assert writes[:6] == (
        "namedLocation",
        "user",
        "group",
        "application",
        "servicePrincipal",
        "links",
    )
    assert writes.index("oAuth2PermissionGrant") > writes.index("links")
    assert writes.index("appRoleAssignment") > writes.index("links")
    assert writes.index("conditionalAccessPolicy") > writes.index("appRoleAssignment")
    assert names[-1] == "softDelete:namedLocation"


def test_soft_deletes_come_last_in_reverse_dependency_order() -> None:
    location = state("namedLocation")
    policy = state(
        "conditionalAccessPolicy",
        {**_policy(), "conditions": {"locations": {"includeLocations": [LOCATION]}}},
    )
    m365 = state("group", body("group", "group-m365-01-response.json"))
    user = state("user")
    edited_user = with_id(body("user"), "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2")
    recovery = plan(
        [state("user", edited_user)],
        [location, policy, m365, user, state("user", {**edited_user, "jobTitle": "Intern"})],
    )

    kinds = [a.action for a in recovery.actions]
    assert kinds[0] is Action.UPDATE
    assert all(kind is Action.SOFT_DELETE for kind in kinds[1:])
    assert [a.type for a in recovery.actions[1:]] == [
        "conditionalAccessPolicy",
        "group",
        "user",
        "namedLocation",
    ]
    delete_policy = only(recovery, Action.SOFT_DELETE, "conditionalAccessPolicy")
    assert only(recovery, Action.SOFT_DELETE, "namedLocation").depends_on == (delete_policy.id,)


def test_a_named_location_is_deleted_only_after_the_policy_stops_using_it() -> None:
    before = _policy()
    now = {
        **before,
        "conditions": {**before["conditions"], "locations": {"includeLocations": [LOCATION]}},
    }
    recovery = plan(
        [state("conditionalAccessPolicy", before)],
        [state("conditionalAccessPolicy", now), state("namedLocation")],
    )

    update = only(recovery, Action.UPDATE)
    delete = only(recovery, Action.SOFT_DELETE)
    assert delete.depends_on == (update.id,)


def test_an_action_whose_dependency_is_blocked_is_skipped_too() -> None:
    before = _policy()
    now = {
        **before,
        "conditions": {**before["conditions"], "locations": {"includeLocations": [LOCATION]}},
    }
    gone_group = "0b9a3b0c-52a1-4f4b-8d6a-3a5f2c1e9d00"
    backup = {
        **before,
        "conditions": {
            **before["conditions"],
            "users": {"excludeGroups": [gone_group], "includeUsers": ["All"]},
        },
    }
    recovery = plan(
        [state("conditionalAccessPolicy", backup)],
        [state("conditionalAccessPolicy", now), state("namedLocation")],
        missing=[gone_group],
    )

    update = only(recovery, Action.UPDATE)
    delete = only(recovery, Action.SOFT_DELETE)
    assert update.blocked is not None
    assert update.blocked.code is BlockCode.UNRESOLVABLE_REFERENCE
    assert delete.blocked is not None
    assert delete.blocked.code is BlockCode.DEPENDENCY
    assert update.id in delete.blocked.message
    assert delete.requests == ()


def test_a_blocked_restore_takes_no_update_with_it() -> None:
    synced = {**body("user"), "onPremisesSyncEnabled": True}
    recovery = plan(
        [state("user", synced)], [state("user", {**synced, "jobTitle": "x"}, deleted=True)]
    )

    (restore,) = recovery.actions
    assert restore.action is Action.RESTORE
    assert restore.blocked is not None
    assert "on-premises" in restore.blocked.message


def test_grants_and_assignments_follow_their_recreated_service_principals() -> None:
    sp = with_id(body("servicePrincipal"), SP)
    grant = {**body("oAuth2PermissionGrant"), "clientId": SP}
    assignment = {**body("appRoleAssignment"), "resourceId": SP}
    recovery = plan(
        [
            state("servicePrincipal", sp, links={}),
            state("oAuth2PermissionGrant", grant),
            state("appRoleAssignment", assignment),
        ],
        [],
    )

    create_sp = only(recovery, Action.RECREATE, "servicePrincipal")
    create_grant = only(recovery, Action.RECREATE, "oAuth2PermissionGrant")
    create_assignment = only(recovery, Action.RECREATE, "appRoleAssignment")
    token = new_id_token(SP)
    assert create_grant.requests[0].body is not None
    assert create_grant.requests[0].body["clientId"] == token
    assert create_grant.depends_on == (create_sp.id,)
    assert create_assignment.requests[0].url == f"/servicePrincipals/{token}/appRoleAssignedTo"
    assert create_assignment.depends_on == (create_sp.id,)


def test_a_policy_naming_a_recreated_application_waits_for_it() -> None:
    app = body("application")
    policy = _policy()
    policy["conditions"]["applications"] = {"includeApplications": [app["appId"]]}
    recovery = plan(
        [state("application", app, links={}), state("conditionalAccessPolicy", policy)],
        [state("conditionalAccessPolicy", policy)],
    )

    update = only(recovery, Action.UPDATE, "conditionalAccessPolicy")
    assert update.requests[0].body is not None
    assert update.requests[0].body["conditions"]["applications"]["includeApplications"] == [
        new_app_id_token(app["appId"])
    ]
    assert update.depends_on == (only(recovery, Action.RECREATE).id,)


def test_action_ids_are_stable_across_recomputation_and_input_order() -> None:
    backup, live = _recreated_group_scenario()
    first = plan(backup, live)
    shuffled_backup, shuffled_live = list(backup), list(live)
    random.Random(7).shuffle(shuffled_backup)
    random.Random(7).shuffle(shuffled_live)
    again = plan(shuffled_backup, shuffled_live)

    assert [a.id for a in first.actions] == [a.id for a in again.actions]
    assert first.to_dict() == again.to_dict()
    assert only(first, Action.RECREATE).id == f"recreate:group:{GROUP}"


def test_a_recomputed_plan_keeps_the_ids_of_what_remains() -> None:
    # the members were already added back when the recovery stopped; the rest remains
    group = state(
        "group", links={"members": (USER,), "owners": ("5bde3e51-d13b-4db1-9948-fe4b109d11a7",)}
    )
    now = state("group", {**group.body, "description": "x"}, links={"members": (), "owners": ()})
    halfway = state("group", dict(now.body), links={"members": (USER,), "owners": ()})

    first, resumed = plan([group], [now]), plan([group], [halfway])

    assert {a.id for a in resumed.actions} < {a.id for a in first.actions}
    assert {a.id for a in resumed.actions} == {
        f"update:group:{GROUP}",
        f"links:group:{GROUP}:owners",
    }


def test_touched_objects_are_the_existing_objects_written() -> None:
    backup, live = _recreated_group_scenario()
    recovery = plan(backup, live)

    assert recovery.touched() == [("conditionalAccessPolicy", POLICY), ("group", OTHER_GROUP)]
    assert [name for name, _ in recovery.phases()] == ["group", "links", "conditionalAccessPolicy"]
