"""What an executor needs from a plan: storage, placeholders, and exactly-once helpers."""

from __future__ import annotations

import json
import string
import uuid

import pytest

from rewind_common.domain.actions import Outcome, PlannedAction
from rewind_common.domain.changes import Action
from rewind_common.domain.idempotency import (
    Readiness,
    find_recreated,
    is_applied,
    pending_requests,
    readiness,
    record_created,
)
from rewind_common.domain.plan import RecoveryPlan
from rewind_common.domain.records import ObjectState
from rewind_common.domain.remap import (
    PASSWORD,
    IdMap,
    UnresolvedPlaceholder,
    new_app_id_token,
    new_id_token,
    new_password,
    resolve,
)
from tests.unit.domain.planning import actions, only, plan, with_id
from tests.unit.domain.samples import body, state

BASE = "https://graph.microsoft.com/v1.0"
USER = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
NEW_USER = "11111111-2222-4333-8444-555555555555"
GROUP = "21d05557-b7b6-418f-86fa-a3118d751be4"


def _full_user() -> dict[str, object]:
    return {**body("user"), "accountEnabled": True, "mailNickname": "AdeleV"}


def _rich_plan() -> RecoveryPlan:
    group = state("group", links={"members": (USER,), "owners": ()})
    policy = body("conditionalAccessPolicy")
    policy["conditions"]["users"]["excludeGroups"] = [GROUP]
    return plan(
        [state("user", _full_user(), links={}), group, state("conditionalAccessPolicy", policy)],
        [state("conditionalAccessPolicy", policy), state("application")],
    )


def test_a_plan_survives_storage_unchanged() -> None:
    recovery = _rich_plan()
    stored = json.loads(json.dumps(recovery.to_dict()))

    assert RecoveryPlan.from_dict(stored) == recovery
    assert RecoveryPlan.from_dict(stored).to_dict() == recovery.to_dict()


def test_each_action_has_the_recovery_action_shape() -> None:
    shown = _rich_plan().to_dict()

    for action in shown["actions"]:
        assert {
            "type",
            "objectId",
            "action",
            "outcome",
            "error",
            "before",
            "after",
            "newObjectId",
        } <= set(action)
        assert {"requests", "dependsOn", "warnings"} <= set(action)
        assert action["outcome"] == "pending"
        assert action["error"] is None
        assert action["newObjectId"] is None
    assert shown["outcomes"] == {"pending": len(shown["actions"]), "failed": 0, "skipped": 0}
    assert shown["summary"]["user"] == {"recreate": 1}
    assert shown["summary"]["application"] == {"softDelete": 1}


def test_blocked_actions_are_stored_with_their_outcome_and_error() -> None:
    recovery = plan([], [state("group")])  # a security group: deleting it would be permanent
    (shown,) = recovery.to_dict()["actions"]

    assert shown["outcome"] == "skipped"
    assert shown["error"]["code"] == "notRecoverable"
    assert RecoveryPlan.from_dict(recovery.to_dict()) == recovery


def test_a_dry_run_never_holds_a_password() -> None:
    recovery = _rich_plan()
    text = json.dumps(recovery.to_dict())
    recreate = only(recovery, Action.RECREATE, "user")
    (request,) = recreate.requests

    assert PASSWORD in text
    assert text.count('"password"') == 2  # the create body and its "after"
    with pytest.raises(UnresolvedPlaceholder):
        request.resolved(IdMap(), graph_base_url=BASE)
    secret = new_password()
    sent = request.resolved(IdMap(), graph_base_url=BASE, password=secret)
    assert sent.body is not None
    assert sent.body["passwordProfile"] == {
        "forceChangePasswordNextSignIn": True,
        "password": secret,
    }


def test_new_passwords_meet_the_complexity_rule_and_differ() -> None:
    passwords = {new_password() for _ in range(20)}

    assert len(passwords) == 20
    for password in passwords:
        assert len(password) == 24
        assert any(c in string.ascii_lowercase for c in password)
        assert any(c in string.ascii_uppercase for c in password)
        assert any(c in string.digits for c in password)
        assert any(not c.isalnum() for c in password)
    with pytest.raises(ValueError, match="at least 8"):
        new_password(6)


def test_placeholders_are_filled_from_the_id_map_and_the_base_url() -> None:
    recovery = _rich_plan()
    membership = only(recovery, Action.LINKS, "group")
    id_map = IdMap().with_new(GROUP, "99999999-0000-4000-8000-000000000000")
    id_map = id_map.with_new(USER, NEW_USER)

    (sent,) = [r.resolved(id_map, graph_base_url=BASE + "/") for r in membership.requests]

    assert sent.url == "/groups/99999999-0000-4000-8000-000000000000"
    assert sent.body == {"members@odata.bind": [f"{BASE}/directoryObjects/{NEW_USER}"]}
    assert set(membership.depends_on) == {f"recreate:group:{GROUP}", f"recreate:user:{USER}"}
    with pytest.raises(UnresolvedPlaceholder, match=GROUP):
        resolve(membership.requests[0].url, IdMap(), graph_base_url=BASE)


def test_the_id_map_reports_old_to_new_and_refuses_a_second_new_id() -> None:
    id_map = IdMap().with_new("b", "2").with_new("a", "1").with_new("a", "1")

    assert list(id_map.to_dict().items()) == [("a", "1"), ("b", "2")]
    assert IdMap.from_dict(id_map.to_dict()) == id_map
    assert id_map.fill(
        {"x": [new_id_token("a"), new_id_token("c"), f"api://{new_app_id_token('b')}"]}
    ) == {"x": ["1", new_id_token("c"), "api://2"]}
    with pytest.raises(ValueError, match="already re-created"):
        id_map.with_new("a", "3")


def test_record_created_keeps_the_new_id_and_app_id() -> None:
    recovery = plan([state("application", links={})], [])
    recreate = only(recovery, Action.RECREATE)
    old_app_id = body("application")["appId"]

    id_map = record_created(recreate, {"id": "new-object", "appId": "new-app"}, IdMap())

    assert id_map.to_dict() == {recreate.object_id: "new-object", old_app_id: "new-app"}
    with pytest.raises(ValueError, match="not a re-creation"):
        record_created(
            recovery.actions[0].__class__(id="x", type="user", object_id="u", action=Action.UPDATE),
            {"id": "1"},
            id_map,
        )


# --- already applied? ------------------------------------------------------------------


def test_an_update_is_applied_once_the_written_properties_match() -> None:
    before = _full_user()
    drifted = {**before, "jobTitle": "Intern", "officeLocation": "B/1"}
    update = only(plan([state("user", before)], [state("user", drifted)]), Action.UPDATE)

    assert not is_applied(update, state("user", drifted), IdMap())
    assert is_applied(update, state("user", {**before, "city": "elsewhere"}), IdMap())
    assert pending_requests(update, state("user", before), IdMap(), graph_base_url=BASE) == ()
    assert not is_applied(update, None, IdMap())


def test_an_update_naming_a_recreated_object_needs_its_new_id() -> None:
    recovery = _rich_plan()
    update = only(recovery, Action.UPDATE)
    new_group = "99999999-0000-4000-8000-000000000000"
    written = body("conditionalAccessPolicy")
    written["conditions"]["users"]["excludeGroups"] = [new_group]

    live = state("conditionalAccessPolicy", written)
    assert not is_applied(update, live, IdMap())
    assert is_applied(update, live, IdMap().with_new(GROUP, new_group))
    with pytest.raises(UnresolvedPlaceholder):
        pending_requests(update, live, IdMap(), graph_base_url=BASE)


def test_restore_and_soft_delete_are_judged_by_where_the_object_is() -> None:
    restore = only(plan([state("user")], [state("user", deleted=True)]), Action.RESTORE)
    delete = only(plan([], [state("application")]), Action.SOFT_DELETE)

    assert not is_applied(restore, state("user", deleted=True), IdMap())
    assert is_applied(restore, state("user"), IdMap())
    assert not is_applied(delete, state("application"), IdMap())
    assert is_applied(delete, state("application", deleted=True), IdMap())
    assert is_applied(delete, None, IdMap())


def test_a_recreation_is_recognised_by_its_id_or_its_natural_key() -> None:
    recovery = plan([state("user", _full_user(), links={})], [])
    recreate = only(recovery, Action.RECREATE)
    created = state(
        "user", with_id(_full_user(), NEW_USER, userPrincipalName="ADELEV@contoso.onmicrosoft.com")
    )
    stranger = state(
        "user", with_id(_full_user(), NEW_USER, userPrincipalName="someone@contoso.com")
    )

    assert is_applied(recreate, None, IdMap().with_new(USER, NEW_USER))
    assert not is_applied(recreate, None, IdMap())
    assert is_applied(recreate, created, IdMap())
    assert not is_applied(recreate, stranger, IdMap())
    assert find_recreated(recreate, [stranger, created], IdMap()) == created


def test_an_object_that_matched_before_the_recovery_is_never_taken_for_the_recreated_one() -> None:
    twin = state("group", with_id(body("group"), "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2"))
    recreate = only(plan([state("group", links={})], [twin]), Action.RECREATE)
    ours = state("group", with_id(body("group"), NEW_USER))

    assert find_recreated(recreate, [twin], IdMap()) is None
    assert find_recreated(recreate, [twin, ours], IdMap()) == ours


def _members(count: int) -> tuple[str, ...]:
    return tuple(sorted(str(uuid.UUID(int=n + 1)) for n in range(count)))


def test_a_resumed_links_action_sends_only_what_is_missing() -> None:
    members = _members(45)
    extra = "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2"
    recovery = plan(
        [state("group", links={"members": members, "owners": ()})],
        [state("group", links={"members": (extra,), "owners": ()})],
    )
    link: PlannedAction = actions(recovery, Action.LINKS)[0]
    halfway = state("group", links={"members": members[:30], "owners": ()})

    remaining = pending_requests(link, halfway, IdMap(), graph_base_url=BASE)

    assert not is_applied(link, halfway, IdMap())
    assert [(r.method, len((r.body or {}).get("members@odata.bind", []))) for r in remaining] == [
        ("PATCH", 10),
        ("PATCH", 5),
    ]
    assert is_applied(link, state("group", links={"members": members, "owners": ()}), IdMap())
    assert (
        pending_requests(
            link, state("group", links={"members": members}), IdMap(), graph_base_url=BASE
        )
        == ()
    )
    with_extra = state("group", links={"members": (*members, extra)})
    assert [r.method for r in pending_requests(link, with_extra, IdMap(), graph_base_url=BASE)] == [
        "DELETE"
    ]


def test_a_manager_already_put_back_needs_no_request() -> None:
    manager = "5bde3e51-d13b-4db1-9948-fe4b109d11a7"
    link = only(
        plan([state("user", links={"manager": manager})], [state("user", links={"manager": None})]),
        Action.LINKS,
    )

    assert (
        pending_requests(
            link, state("user", links={"manager": manager}), IdMap(), graph_base_url=BASE
        )
        == ()
    )
    assert (
        len(
            pending_requests(
                link, state("user", links={"manager": None}), IdMap(), graph_base_url=BASE
            )
        )
        == 1
    )


def test_readiness_follows_the_dependencies_outcomes() -> None:
    recovery = _rich_plan()
    update = only(recovery, Action.UPDATE)
    (dependency,) = update.depends_on

    assert readiness(update, {}) is Readiness.WAITING
    assert readiness(update, {dependency: Outcome.PENDING}) is Readiness.WAITING
    assert readiness(update, {dependency: "applied"}) is Readiness.READY
    assert readiness(update, {dependency: Outcome.FAILED}) is Readiness.BLOCKED
    assert readiness(only(recovery, Action.RECREATE, "user"), {}) is Readiness.READY


def test_states_without_links_are_not_taken_for_applied_links() -> None:
    link = only(
        plan([state("user", links={"manager": USER})], [state("user", links={})]), Action.LINKS
    )

    assert not is_applied(link, ObjectState("user", USER, body("user")), IdMap())
