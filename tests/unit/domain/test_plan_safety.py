"""Safety rules: never a reduced list, scope limits, break-glass accounts stay excluded."""

from __future__ import annotations

from typing import Any

import pytest

from rewind_common.domain.actions import BlockCode, Outcome
from rewind_common.domain.changes import Action
from rewind_common.domain.diff import diff_object
from rewind_common.domain.plan import build_plan
from rewind_common.domain.remap import new_id_token
from rewind_common.domain.scope import Scope
from rewind_common.errors import PlanRefused
from tests.unit.domain.planning import AllExcept, only, plan, with_id
from tests.unit.domain.samples import body, state

GROUP = "21d05557-b7b6-418f-86fa-a3118d751be4"
GONE = "0b9a3b0c-52a1-4f4b-8d6a-3a5f2c1e9d00"
BG = "124c5b6a-ffa5-483a-9b88-04c3fce5574a"
BG_UPN = "breakglass1@contoso.onmicrosoft.com"
EXCLUSION_GROUP = "3ee3a9de-0a86-4e12-a287-9769accf1ba2"
POLICY = "6b5e999b-0ba8-4186-a106-e0296c1c4358"


def _policy(state_: str = "enabled", **users: Any) -> dict[str, Any]:
    data = body("conditionalAccessPolicy")
    data["state"] = state_
    data["conditions"]["users"] = {"includeUsers": ["All"], **users}
    return data


def _break_glass_user() -> Any:
    return state(
        "user", with_id(body("user"), BG, userPrincipalName=BG_UPN, userType="Member"), links={}
    )


def _exclusion_group(*members: str) -> Any:
    data = with_id(body("group"), EXCLUSION_GROUP, mailNickname="bg")
    return state("group", data, links={"members": members, "owners": ()})


def test_an_unresolvable_exclusion_fails_the_policy_update_and_nothing_else() -> None:
    backup_policy = _policy("disabled", excludeGroups=[GONE])
    live_policy = _policy("disabled", excludeGroups=[])
    user = body("user")
    recovery = plan(
        [state("conditionalAccessPolicy", backup_policy), state("user", user)],
        [state("conditionalAccessPolicy", live_policy), state("user", {**user, "jobTitle": "x"})],
        missing=[GONE],
    )

    update = only(recovery, Action.UPDATE, "conditionalAccessPolicy")
    assert update.outcome is Outcome.FAILED
    assert update.blocked is not None
    assert update.blocked.code is BlockCode.UNRESOLVABLE_REFERENCE
    assert GONE in update.blocked.message
    assert update.requests == ()
    assert any(GONE in w.reason for w in update.warnings)
    assert only(recovery, Action.UPDATE, "user").runnable


def test_an_excluded_group_outside_the_scope_is_not_silently_recreated() -> None:
    group = state("group", links={"members": (), "owners": ()})
    policy = _policy("disabled", excludeGroups=[GROUP])
    live_policy = _policy("disabled")
    scope = Scope(types=frozenset({"conditionalAccessPolicy"}))
    recovery = plan(
        [group, state("conditionalAccessPolicy", policy)],
        [state("conditionalAccessPolicy", live_policy)],
        scope=scope,
    )

    (update,) = recovery.actions
    assert update.blocked is not None
    assert update.blocked.code is BlockCode.UNRESOLVABLE_REFERENCE


def test_the_same_group_inside_the_scope_is_recreated_and_referenced() -> None:
    group = state("group", links={"members": (), "owners": ()})
    policy = _policy("disabled", excludeGroups=[GROUP])
    recovery = plan(
        [group, state("conditionalAccessPolicy", policy)],
        [state("conditionalAccessPolicy", _policy("disabled"))],
    )

    update = only(recovery, Action.UPDATE)
    assert update.runnable
    assert update.requests[0].body is not None
    assert update.requests[0].body["conditions"]["users"]["excludeGroups"] == [new_id_token(GROUP)]


def test_a_recreated_policy_missing_its_excluded_group_is_not_recreated_without_it() -> None:
    policy = _policy("disabled", excludeGroups=[GONE])
    recovery = plan([state("conditionalAccessPolicy", policy)], [], missing=[GONE])

    recreate = only(recovery, Action.RECREATE)
    assert recreate.outcome is Outcome.FAILED
    assert recreate.requests == ()


def test_scope_by_object_ids_plans_only_those_objects() -> None:
    user = body("user")
    other = with_id(user, "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2")
    scope = Scope(objects={"user": frozenset({user["id"]})})
    recovery = plan(
        [state("user", user), state("user", other)],
        [state("user", {**user, "jobTitle": "x"}), state("user", {**other, "jobTitle": "x"})],
        scope=scope,
    )

    assert [a.object_id for a in recovery.actions] == [user["id"]]
    assert recovery.scope == scope


def test_a_difference_report_limits_the_plan_but_the_state_is_recomputed() -> None:
    user = body("user")
    report = diff_object(state("user", user), state("user", {**user, "jobTitle": "old drift"}))
    assert report is not None
    recovery = build_plan(
        [state("user", user), state("group")],
        [state("user", {**user, "jobTitle": "newer drift"})],
        changes=[report],
    )

    (update,) = recovery.actions
    assert update.before is not None
    assert update.before["jobTitle"] == "newer drift"


# --- break-glass accounts --------------------------------------------------------------


def _policy_plan(
    backup_policy: dict[str, Any],
    live_policy: dict[str, Any],
    *extra: Any,
    accounts: tuple[str, ...] = (BG,),
) -> Any:
    return plan(
        [state("conditionalAccessPolicy", backup_policy)],
        [state("conditionalAccessPolicy", live_policy), _break_glass_user(), *extra],
        break_glass=accounts,
    )


def test_an_enabled_policy_losing_its_break_glass_exclusion_is_refused() -> None:
    with pytest.raises(PlanRefused) as refused:
        _policy_plan(_policy(excludeUsers=[]), _policy(excludeUsers=[BG]))

    assert POLICY in refused.value.message
    assert BG_UPN in refused.value.message
    assert refused.value.details["breakGlassViolations"] == [
        {"policyId": POLICY, "displayName": "Demo app for documentation", "account": BG}
    ]


def test_a_policy_keeping_the_exclusion_passes() -> None:
    recovery = _policy_plan(
        _policy(excludeUsers=[BG], excludeRoles=["x"]), _policy(excludeUsers=[BG])
    )

    assert only(recovery, Action.UPDATE).runnable
    assert [a.object_id for a in recovery.break_glass] == [BG]


def test_an_exclusion_through_a_group_passes() -> None:
    recovery = _policy_plan(
        _policy(excludeGroups=[EXCLUSION_GROUP]), _policy(excludeUsers=[BG]), _exclusion_group(BG)
    )

    assert only(recovery, Action.UPDATE).runnable


def test_an_exclusion_through_a_nested_group_passes() -> None:
    inner = "7c9a2e44-1111-4a4a-9b9b-222233334444"
    nested = state(
        "group",
        with_id(body("group"), inner, mailNickname="inner"),
        links={"members": (BG,), "owners": ()},
    )
    recovery = _policy_plan(
        _policy(excludeGroups=[EXCLUSION_GROUP]),
        _policy(excludeUsers=[BG]),
        _exclusion_group(inner),
        nested,
    )

    assert only(recovery, Action.UPDATE).runnable


def test_a_group_whose_membership_is_unknown_does_not_count_as_an_exclusion() -> None:
    with pytest.raises(PlanRefused):
        _policy_plan(_policy(excludeGroups=[EXCLUSION_GROUP]), _policy(excludeUsers=[BG]))


@pytest.mark.parametrize("policy_state", ["disabled", "enabledForReportingButNotEnforced"])
def test_policies_not_enforced_yet_must_exclude_the_account_too(policy_state: str) -> None:
    """One switch away from enforcement: a recovery never writes one that would lock the
    account out once enabled."""
    with pytest.raises(PlanRefused, match=f"would be written \\({policy_state}\\)"):
        _policy_plan(_policy(policy_state), _policy(excludeUsers=[BG]))


@pytest.mark.parametrize("policy_state", ["disabled", "enabledForReportingButNotEnforced"])
def test_policies_not_enforced_yet_that_exclude_the_account_pass(policy_state: str) -> None:
    recovery = _policy_plan(
        _policy(policy_state, excludeUsers=[BG]), _policy(policy_state, excludeUsers=[BG, GROUP])
    )

    assert only(recovery, Action.UPDATE).runnable


def test_a_policy_that_cannot_apply_to_the_account_passes() -> None:
    someone = "a702a13d-a437-4a07-8a7e-8c052de62dfd"
    recovery = _policy_plan(
        {**_policy(), "conditions": {"users": {"includeUsers": [someone]}}},
        _policy(excludeUsers=[BG]),
    )

    assert only(recovery, Action.UPDATE).runnable


def test_a_policy_targeting_directory_roles_could_reach_the_account() -> None:
    role_policy = {
        **_policy(),
        "conditions": {"users": {"includeRoles": ["62e90394-69f5-4237-9190-012177145e10"]}},
    }
    with pytest.raises(PlanRefused):
        _policy_plan(role_policy, _policy(excludeUsers=[BG]))


def test_accounts_named_by_user_principal_name_are_resolved() -> None:
    with pytest.raises(PlanRefused) as refused:
        _policy_plan(_policy(), _policy(excludeUsers=[BG]), accounts=(BG_UPN.upper(),))
    assert BG in refused.value.message

    recovery = _policy_plan(
        _policy(excludeUsers=[BG]), _policy(excludeUsers=[BG, "x"]), accounts=(BG_UPN,)
    )
    assert recovery.break_glass[0].user_principal_name == BG_UPN


def test_an_unknown_break_glass_account_refuses_a_plan_writing_policies() -> None:
    with pytest.raises(PlanRefused, match=r"nobody@contoso\.com"):
        _policy_plan(_policy(excludeUsers=[BG]), _policy(), accounts=("nobody@contoso.com",))


def test_an_unknown_break_glass_account_does_not_block_unrelated_recoveries() -> None:
    user = body("user")
    recovery = build_plan(
        [state("user", user)],
        [state("user", {**user, "jobTitle": "x"})],
        break_glass=("nobody@contoso.com",),
    )

    assert only(recovery, Action.UPDATE).runnable
    assert recovery.break_glass == ()
    members = plan(
        [_exclusion_group("87d349ed-44d7-43e1-9a83-5f2406dee5bd")],
        [_exclusion_group(), state("conditionalAccessPolicy", _policy("disabled"))],
        break_glass=("nobody@contoso.com",),
    )
    assert only(members, Action.LINKS).runnable


def test_recreated_and_restored_policies_are_checked_too() -> None:
    with pytest.raises(PlanRefused):
        plan(
            [state("conditionalAccessPolicy", _policy())], [_break_glass_user()], break_glass=(BG,)
        )
    with pytest.raises(PlanRefused):
        plan(
            [state("conditionalAccessPolicy", _policy())],
            [state("conditionalAccessPolicy", _policy(), deleted=True), _break_glass_user()],
            break_glass=(BG,),
        )


def test_removing_the_account_from_an_exclusion_group_a_live_policy_relies_on_is_refused() -> None:
    # the account was added to the exclusion group after the backup; the policy, unchanged,
    # relies on it now
    live_policy = state("conditionalAccessPolicy", _policy(excludeGroups=[EXCLUSION_GROUP]))
    with pytest.raises(PlanRefused, match=r"be left \(enabled\)"):
        plan(
            [_exclusion_group(), live_policy],
            [_exclusion_group(BG), live_policy, _break_glass_user()],
            break_glass=(BG,),
        )


def test_a_break_glass_account_created_after_the_backup_is_never_deleted() -> None:
    recovery = plan([], [_break_glass_user()], break_glass=(BG_UPN,))

    delete = only(recovery, Action.SOFT_DELETE)
    assert delete.blocked is not None
    assert delete.blocked.code is BlockCode.PROTECTED
    assert delete.requests == ()


def test_live_states_missing_an_existing_object_are_an_input_error() -> None:
    with pytest.raises(ValueError, match="live state is missing"):
        build_plan([state("user")], [], resolver=AllExcept())
