"""Links: members added in batches of twenty, owners and managers through ``$ref``."""

from __future__ import annotations

import uuid

from rewind_common.domain.actions import BlockCode, Outcome
from rewind_common.domain.changes import Action
from rewind_common.registry import get_type
from tests.unit.domain.planning import actions, plan
from tests.unit.domain.samples import body, state

GROUP = "21d05557-b7b6-418f-86fa-a3118d751be4"
USER = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
OTHER = "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2"
MANAGER = "5bde3e51-d13b-4db1-9948-fe4b109d11a7"
GONE = "0b9a3b0c-52a1-4f4b-8d6a-3a5f2c1e9d00"
GRAPH = "{{graph}}"


def _ids(count: int) -> tuple[str, ...]:
    return tuple(sorted(str(uuid.UUID(int=n + 1)) for n in range(count)))


def _link(recovery, name: str):  # type: ignore[no-untyped-def]
    return next(a for a in actions(recovery, Action.LINKS) if a.link == name)


def test_45_members_are_added_back_in_3_patches_of_at_most_20() -> None:
    members = _ids(45)
    recovery = plan(
        [state("group", links={"members": members, "owners": ()})],
        [state("group", links={"members": (), "owners": ()})],
    )

    link = _link(recovery, "members")
    assert [r.method for r in link.requests] == ["PATCH"] * 3
    assert {r.url for r in link.requests} == {f"/groups/{GROUP}"}
    batches = [r.body["members@odata.bind"] for r in link.requests if r.body]
    assert [len(b) for b in batches] == [20, 20, 5]
    sent = [url.rsplit("/", 1)[1] for batch in batches for url in batch]
    assert sent == list(members)
    assert all(url.startswith(f"{GRAPH}/directoryObjects/") for batch in batches for url in batch)
    assert get_type("group").link("members").bind_limit == 20
    assert link.batchable


def test_members_added_after_the_backup_are_removed_one_ref_at_a_time() -> None:
    recovery = plan(
        [state("group", links={"members": (USER,), "owners": ()})],
        [state("group", links={"members": (USER, OTHER), "owners": ()})],
    )

    link = _link(recovery, "members")
    assert [(r.method, r.url, r.body) for r in link.requests] == [
        ("DELETE", f"/groups/{GROUP}/members/{OTHER}/$ref", None)
    ]
    assert (link.before, link.after) == ({"members": [OTHER]}, {"members": []})


def test_owners_are_added_with_one_ref_post_each_before_removals() -> None:
    recovery = plan(
        [state("group", links={"members": (), "owners": (USER, MANAGER)})],
        [state("group", links={"members": (), "owners": (OTHER,)})],
    )

    link = _link(recovery, "owners")
    assert [(r.method, r.url, r.body) for r in link.requests] == [
        (
            "POST",
            f"/groups/{GROUP}/owners/$ref",
            {"@odata.id": f"{GRAPH}/directoryObjects/{MANAGER}"},
        ),
        ("POST", f"/groups/{GROUP}/owners/$ref", {"@odata.id": f"{GRAPH}/directoryObjects/{USER}"}),
        ("DELETE", f"/groups/{GROUP}/owners/{OTHER}/$ref", None),
    ]


def test_application_and_service_principal_owners() -> None:
    for type_name, path in (
        ("application", "/applications"),
        ("servicePrincipal", "/servicePrincipals"),
    ):
        data = body(type_name)
        recovery = plan(
            [state(type_name, links={"owners": (USER,)})], [state(type_name, links={"owners": ()})]
        )

        link = _link(recovery, "owners")
        assert [(r.method, r.url) for r in link.requests] == [
            ("POST", f"{path}/{data['id']}/owners/$ref")
        ]


def test_a_replaced_manager_is_put_back_in_one_request() -> None:
    recovery = plan(
        [state("user", links={"manager": MANAGER})], [state("user", links={"manager": OTHER})]
    )

    link = _link(recovery, "manager")
    assert [(r.method, r.url, r.body) for r in link.requests] == [
        ("PUT", f"/users/{USER}/manager/$ref", {"@odata.id": f"{GRAPH}/users/{MANAGER}"})
    ]
    assert (link.before, link.after) == ({"manager": OTHER}, {"manager": MANAGER})


def test_a_manager_set_after_the_backup_is_removed() -> None:
    recovery = plan(
        [state("user", links={"manager": None})], [state("user", links={"manager": OTHER})]
    )

    assert [(r.method, r.url) for r in _link(recovery, "manager").requests] == [
        ("DELETE", f"/users/{USER}/manager/$ref")
    ]


def test_an_unresolvable_manager_fails_the_action_and_keeps_the_current_one() -> None:
    recovery = plan(
        [state("user", links={"manager": GONE})],
        [state("user", links={"manager": OTHER})],
        missing=[GONE],
    )

    link = _link(recovery, "manager")
    assert link.requests == ()
    assert link.outcome is Outcome.FAILED
    assert link.blocked is not None
    assert link.blocked.code is BlockCode.UNRESOLVABLE_REFERENCE
    assert GONE in link.blocked.message


def test_resolvable_members_are_added_back_and_the_missing_one_is_reported() -> None:
    recovery = plan(
        [state("group", links={"members": (USER, GONE), "owners": ()})],
        [state("group", links={"members": (), "owners": ()})],
        missing=[GONE],
    )

    link = _link(recovery, "members")
    assert link.runnable
    assert link.requests[0].body == {"members@odata.bind": [f"{GRAPH}/directoryObjects/{USER}"]}
    assert any(GONE in w.reason for w in link.warnings)


def test_members_that_all_fail_to_resolve_fail_the_action() -> None:
    recovery = plan(
        [state("group", links={"members": (GONE,), "owners": ()})],
        [state("group", links={"members": (), "owners": ()})],
        missing=[GONE],
    )

    link = _link(recovery, "members")
    assert link.outcome is Outcome.FAILED
    assert link.requests == ()


def test_dynamic_group_members_are_never_written() -> None:
    dynamic = {
        **body("group"),
        "groupTypes": ["DynamicMembership"],
        "membershipRule": 'user.department -eq "Sales"',
    }
    recovery = plan(
        [state("group", dynamic, links={"members": (USER,), "owners": ()})],
        [state("group", dynamic, links={"members": (), "owners": ()})],
    )

    link = _link(recovery, "members")
    assert link.outcome is Outcome.SKIPPED
    assert link.blocked is not None
    assert "membership rule" in link.blocked.message


def test_synced_group_membership_is_left_to_on_premises() -> None:
    synced = {**body("group"), "onPremisesSyncEnabled": True}
    recovery = plan(
        [state("group", synced, links={"members": (USER,), "owners": (USER,)})],
        [state("group", synced, links={"members": (), "owners": ()})],
    )

    members, owners = _link(recovery, "members"), _link(recovery, "owners")
    assert members.outcome is Outcome.SKIPPED
    assert any("on-premises" in w.reason for w in members.warnings)
    assert owners.runnable  # owners are cloud-managed even on a synced group


def test_a_recreated_users_manager_is_put_once_the_user_exists() -> None:
    user = {**body("user"), "accountEnabled": True, "mailNickname": "AdeleV"}
    recovery = plan([state("user", user, links={"manager": MANAGER})], [])

    link = _link(recovery, "manager")
    token = "{{newId:" + USER + "}}"
    assert [(r.method, r.url) for r in link.requests] == [("PUT", f"/users/{token}/manager/$ref")]
    assert (link.before, link.after) == ({"manager": None}, {"manager": MANAGER})
    assert link.depends_on == (f"recreate:user:{USER}",)
