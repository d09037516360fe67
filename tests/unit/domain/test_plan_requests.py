"""The requests a plan sends, per type and action, are exactly what Graph documents."""

from __future__ import annotations

from typing import Any

import pytest

from rewind_common.domain.actions import BlockCode, Outcome, PlannedAction
from rewind_common.domain.changes import Action
from rewind_common.domain.remap import PASSWORD, new_app_id_token, new_id_token
from rewind_common.registry import ALL_TYPES, get_type
from tests.unit.domain.planning import actions, only, plan, with_id
from tests.unit.domain.samples import EDITS, body, edited, load, state

USER_ID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
APP_ID = "0d0021e2-eaab-4b9f-a5ad-38c55337d63e"
APP_APP_ID = "5f0f8757-988d-474c-9f85-74a6bc70dfd0"
SP_ID = "59e617e5-e447-4adc-8b88-00af644d7c92"

#: Graph's documented URL of one object, per type (Learn: <type>-update / -delete).
OBJECT_URLS = {
    "user": "/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd",
    "group": "/groups/21d05557-b7b6-418f-86fa-a3118d751be4",
    "application": "/applications/0d0021e2-eaab-4b9f-a5ad-38c55337d63e",
    "servicePrincipal": "/servicePrincipals/59e617e5-e447-4adc-8b88-00af644d7c92",
    "namedLocation": "/identity/conditionalAccess/namedLocations/"
    "0854951d-5fc0-4eb1-b392-9b2c9d7949c2",
    "conditionalAccessPolicy": "/identity/conditionalAccess/policies/"
    "6b5e999b-0ba8-4186-a106-e0296c1c4358",
    "authorizationPolicy": "/policies/authorizationPolicy",
    "authenticationMethodsPolicy": "/policies/authenticationMethodsPolicy",
    "organization": "/organization/84841066-274d-4ec0-a5c1-276be684bdd3",
    "oAuth2PermissionGrant": "/oauth2PermissionGrants/"
    "47nZsM8O_UuNq5Jz3QValETpqX7OcT1EgRxx6AR7VXqdkr0_VoxiRIUeDrmns6Kl",
    "appRoleAssignment": "/servicePrincipals/9028d19c-26a9-4809-8e3f-20ff73e2d75e/"
    "appRoleAssignedTo/-WmtM5na7Uus0D8kI1yylpU9Mdo0Pb9OoBJvd3T5eKc",
}
MUTABLE = [t.name for t in ALL_TYPES if not t.immutable]


def _full_user() -> dict[str, Any]:
    # What a backup holds with Rewind's $select: the documented body plus the two
    # properties Graph leaves out of its default set.
    return {**body("user"), "accountEnabled": True, "mailNickname": "AdeleV"}


def _sample(type_name: str) -> dict[str, Any]:
    return _full_user() if type_name == "user" else body(type_name)


def assert_only_writable(action: PlannedAction) -> None:
    object_type = get_type(action.type)
    creating = action.action is Action.RECREATE
    for request in action.requests:
        for name in request.body or {}:
            if name.endswith("@odata.bind") or name == "@odata.id":
                continue
            if name == "passwordProfile" and creating:
                assert request.body is not None
                assert request.body[name]["password"] == PASSWORD  # generated, never backed up
                continue
            assert object_type.is_writable(name, creating=creating), (action.id, name)


@pytest.mark.parametrize("type_name", MUTABLE)
def test_update_patches_the_changed_property_with_its_backup_value(type_name: str) -> None:
    path, value = EDITS[type_name]
    before = _sample(type_name)
    recovery = plan([state(type_name, before)], [state(type_name, edited(before, path, value))])

    update = only(recovery, Action.UPDATE)
    top = path.split(".")[0]
    expected = {top: before[top]}
    if type_name == "namedLocation":
        expected = {"@odata.type": "#microsoft.graph.ipNamedLocation", **expected}
    assert [(r.method, r.url, r.body) for r in update.requests] == [
        ("PATCH", OBJECT_URLS[type_name], expected)
    ]
    assert update.properties == (top,)
    assert update.outcome is Outcome.PENDING
    assert_only_writable(update)


def test_update_sends_every_writable_difference_and_never_read_only_ones() -> None:
    before = _full_user()
    now = edited(edited(before, "jobTitle", "Intern"), "officeLocation", "B/1")
    now = {**now, "securityIdentifier": "S-1-5-21", "createdDateTime": "2030-01-01T00:00:00Z"}
    update = only(plan([state("user", before)], [state("user", now)]), Action.UPDATE)

    assert update.requests[0].body == {"jobTitle": before["jobTitle"], "officeLocation": "18/2111"}
    assert update.before == now
    assert update.after is not None
    assert update.after["jobTitle"] == before["jobTitle"]


def test_a_cleared_collection_is_sent_empty_rather_than_null() -> None:
    before = {**_full_user(), "otherMails": []}
    now = {**before, "otherMails": ["adele@fabrikam.com"]}
    update = only(plan([state("user", before)], [state("user", now)]), Action.UPDATE)

    assert update.requests[0].body == {"otherMails": []}


def test_synced_user_mastered_properties_are_left_out_with_a_warning() -> None:
    before = {**_full_user(), "onPremisesSyncEnabled": True}
    now = edited(edited(before, "jobTitle", "Intern"), "preferredLanguage", "nl-NL")
    update = only(plan([state("user", before)], [state("user", now)]), Action.UPDATE)

    assert update.requests[0].body == {"preferredLanguage": "en-US"}
    assert [w.reason for w in update.warnings] == [
        "jobTitle: synced from on-premises: change it in on-premises Active Directory"
    ]


def test_only_synced_differences_give_a_skipped_update_that_says_why() -> None:
    before = {**_full_user(), "onPremisesSyncEnabled": True}
    update = only(
        plan([state("user", before)], [state("user", edited(before, "surname", "X"))]),
        Action.UPDATE,
    )

    assert update.requests == ()
    assert update.blocked is not None
    assert update.blocked.code is BlockCode.NOTHING_WRITABLE
    assert update.outcome is Outcome.SKIPPED
    assert "surname: synced from on-premises" in update.blocked.message


def test_create_only_group_property_is_never_patched() -> None:
    before = {**body("group"), "isAssignableToRole": True}
    now = {**edited(before, "description", "x"), "isAssignableToRole": False}
    update = only(plan([state("group", before)], [state("group", now)]), Action.UPDATE)

    assert update.requests[0].body == {"description": before["description"]}
    assert any("isAssignableToRole" in w.reason for w in update.warnings)


def test_authentication_method_configurations_are_patched_one_by_one() -> None:
    before = body("authenticationMethodsPolicy")
    now = edited(before, "policyVersion", "1.5")  # read-only: never sent
    configs = [dict(c) for c in now["authenticationMethodConfigurations"]]
    configs[0] = {**configs[0], "state": "enabled", "isAttestationEnforced": False}
    now["authenticationMethodConfigurations"] = configs
    update = only(
        plan(
            [state("authenticationMethodsPolicy", before)],
            [state("authenticationMethodsPolicy", now)],
        ),
        Action.UPDATE,
    )

    fido2 = before["authenticationMethodConfigurations"][0]
    assert [(r.method, r.url) for r in update.requests] == [
        ("PATCH", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2")
    ]
    sent = update.requests[0].body
    assert sent is not None
    assert sent["@odata.type"] == "#microsoft.graph.fido2AuthenticationMethodConfiguration"
    assert (sent["state"], sent["isAttestationEnforced"]) == ("disabled", True)
    assert "id" not in sent
    assert sent == {k: v for k, v in fido2.items() if k != "id"}


def test_removed_enabled_app_roles_are_disabled_first() -> None:
    role = {
        "allowedMemberTypes": ["User"],
        "description": "Survey.Read",
        "displayName": "Survey.Read",
        "id": "7a9ddfc4-cc8a-48ea-8275-8ecbffffd5a0",
        "isEnabled": True,
        "origin": "Application",
        "value": "Survey.Read",
    }
    before = body("application")
    now = {**before, "appRoles": [role]}
    update = only(plan([state("application", before)], [state("application", now)]), Action.UPDATE)

    assert [(r.method, r.url, r.body) for r in update.requests] == [
        ("PATCH", OBJECT_URLS["application"], {"appRoles": [{**role, "isEnabled": False}]}),
        ("PATCH", OBJECT_URLS["application"], {"appRoles": []}),
    ]


def test_application_secrets_are_reported_not_written() -> None:
    before = body("application")
    secret = {"keyId": "e8d4fd8d-7e4b-4d8b-8b39-12d3f1d0e0c1", "displayName": "ci"}
    now = {**edited(before, "notes", "x"), "passwordCredentials": [secret]}
    update = only(plan([state("application", before)], [state("application", now)]), Action.UPDATE)

    assert update.requests[0].body == {"notes": None}
    assert any("client secrets are never readable" in w.reason for w in update.warnings)


RESTORE_URLS = {
    "user": f"/directory/deletedItems/{USER_ID}/restore",
    "group": "/directory/deletedItems/21d05557-b7b6-418f-86fa-a3118d751be4/restore",
    "application": f"/directory/deletedItems/{APP_ID}/restore",
    "servicePrincipal": f"/directory/deletedItems/{SP_ID}/restore",
    "namedLocation": "/identity/conditionalAccess/deletedItems/namedLocations/"
    "0854951d-5fc0-4eb1-b392-9b2c9d7949c2/restore",
    "conditionalAccessPolicy": "/identity/conditionalAccess/deletedItems/policies/"
    "6b5e999b-0ba8-4186-a106-e0296c1c4358/restore",
}


@pytest.mark.parametrize("type_name", sorted(RESTORE_URLS))
def test_soft_deleted_objects_are_restored_then_updated(type_name: str) -> None:
    path, value = EDITS[type_name]
    before = _sample(type_name)
    binned = state(type_name, edited(before, path, value), deleted=True)
    recovery = plan([state(type_name, before)], [binned])

    restore, update = only(recovery, Action.RESTORE), only(recovery, Action.UPDATE)
    assert [(r.method, r.url, r.body) for r in restore.requests] == [
        ("POST", RESTORE_URLS[type_name], None)
    ]
    assert update.requests[0].url == OBJECT_URLS[type_name]
    assert restore.id in update.depends_on
    assert recovery.actions.index(restore) < recovery.actions.index(update)


def test_every_restorable_type_has_a_restore_url() -> None:
    assert set(RESTORE_URLS) == {t.name for t in ALL_TYPES if t.restorable}


def test_recreated_user_gets_a_placeholder_password_and_a_warning() -> None:
    recreate = only(plan([state("user", _full_user())], []), Action.RECREATE)

    (request,) = recreate.requests
    assert (request.method, request.url) == ("POST", "/users")
    assert request.body is not None
    assert request.body["passwordProfile"] == {
        "forceChangePasswordNextSignIn": True,
        "password": PASSWORD,
    }
    for name in ("accountEnabled", "displayName", "mailNickname", "userPrincipalName"):
        assert request.body[name] == _full_user()[name]
    assert "id" not in request.body
    assert "must be changed at next sign-in" in recreate.warnings[0].reason
    assert_only_writable(recreate)


def test_a_backup_without_required_create_properties_cannot_be_recreated() -> None:
    recreate = only(plan([state("user")], []), Action.RECREATE)

    assert recreate.blocked is not None
    assert recreate.blocked.code is BlockCode.NOT_RECOVERABLE
    assert "accountEnabled, mailNickname" in recreate.blocked.message
    assert recreate.requests == ()


CREATE_URLS = {
    "group": "/groups",
    "application": "/applications",
    "servicePrincipal": "/servicePrincipals",
    "namedLocation": "/identity/conditionalAccess/namedLocations",
    "conditionalAccessPolicy": "/identity/conditionalAccess/policies",
    "oAuth2PermissionGrant": "/oauth2PermissionGrants",
    "appRoleAssignment": "/servicePrincipals/9028d19c-26a9-4809-8e3f-20ff73e2d75e/"
    "appRoleAssignedTo",
}


@pytest.mark.parametrize("type_name", sorted(CREATE_URLS))
def test_hard_deleted_objects_are_recreated_from_their_writable_properties(type_name: str) -> None:
    recreate = only(plan([state(type_name)], []), Action.RECREATE)

    (request,) = recreate.requests
    assert (request.method, request.url) == ("POST", CREATE_URLS[type_name])
    assert request.body is not None
    object_type = get_type(type_name)
    assert object_type.required_on_create - {"passwordProfile"} <= set(request.body)
    assert recreate.after == request.body
    assert recreate.before is None
    assert_only_writable(recreate)


def test_grant_and_assignment_bodies_are_the_documented_create_bodies() -> None:
    grant = only(plan([state("oAuth2PermissionGrant")], []), Action.RECREATE)
    assignment = only(plan([state("appRoleAssignment")], []), Action.RECREATE)

    assert grant.requests[0].body == {
        k: v
        for k, v in load("oauth2-permission-grant-01-response.json").items()
        if k in {"clientId", "consentType", "principalId", "resourceId", "scope"}
    }
    assert assignment.requests[0].body == {
        "appRoleId": "ef7437e6-4f94-4a0a-a110-a439eb2aa8f7",
        "principalId": "33ad69f9-da99-4bed-acd0-3f24235cb296",
        "resourceId": "9028d19c-26a9-4809-8e3f-20ff73e2d75e",
    }


def test_recreated_application_keeps_no_secret_and_its_service_principal_gets_the_new_app_id() -> (
    None
):
    app = {
        **body("application"),
        "identifierUris": [f"api://{APP_APP_ID}"],
        "passwordCredentials": [{"keyId": "e8d4fd8d-7e4b-4d8b-8b39-12d3f1d0e0c1"}],
    }
    sp = with_id(
        body("servicePrincipal"),
        SP_ID,
        appId=APP_APP_ID,
        servicePrincipalNames=[f"api://{APP_APP_ID}", APP_APP_ID],
    )
    recovery = plan([state("application", app), state("servicePrincipal", sp)], [])

    created_app = only(recovery, Action.RECREATE, "application")
    created_sp = only(recovery, Action.RECREATE, "servicePrincipal")
    app_body, sp_body = created_app.requests[0].body, created_sp.requests[0].body
    assert app_body is not None
    assert sp_body is not None
    assert "passwordCredentials" not in app_body
    assert "appId" not in app_body
    assert app_body["identifierUris"] == [f"api://{new_app_id_token(APP_APP_ID)}"]
    assert any("client secrets are never readable" in w.reason for w in created_app.warnings)
    assert created_app.old_app_id == APP_APP_ID
    assert sp_body["appId"] == new_app_id_token(APP_APP_ID)
    assert sp_body["servicePrincipalNames"] == [
        f"api://{new_app_id_token(APP_APP_ID)}",
        new_app_id_token(APP_APP_ID),
    ]
    assert created_sp.depends_on == (created_app.id,)


def test_a_recreated_user_whose_principal_name_is_taken_is_a_conflict() -> None:
    impostor = state("user", with_id(_full_user(), "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2"))
    recovery = plan([state("user", _full_user())], [impostor])

    recreate = only(recovery, Action.RECREATE)
    assert recreate.blocked is not None
    assert recreate.blocked.code is BlockCode.CONFLICT
    assert recreate.outcome is Outcome.FAILED
    assert "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2" in recreate.blocked.message
    # the impostor, created after the backup, is still soft-deleted
    assert only(recovery, Action.SOFT_DELETE).object_id == "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2"


def test_a_group_with_the_same_name_is_noted_and_never_taken_for_the_recreated_one() -> None:
    twin = state("group", with_id(body("group"), "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2"))
    recovery = plan([state("group", links={})], [twin])

    recreate = only(recovery, Action.RECREATE)
    assert recreate.runnable
    assert recreate.preexisting == ("4c7be08b-361f-41a8-b1ef-1712f7a3dfb2",)
    assert any("already match" in w.reason for w in recreate.warnings)


DELETABLE = {
    "user": True,
    "group": False,  # a security group: its delete would be permanent
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


@pytest.mark.parametrize("type_name", sorted(DELETABLE))
def test_objects_created_after_the_backup_are_deleted_only_where_recoverable(
    type_name: str,
) -> None:
    delete = only(plan([], [state(type_name)]), Action.SOFT_DELETE)

    if DELETABLE[type_name]:
        assert [(r.method, r.url, r.body) for r in delete.requests] == [
            ("DELETE", OBJECT_URLS[type_name], None)
        ]
        assert delete.after is None
    else:
        assert delete.requests == ()
        assert delete.blocked is not None
        assert delete.outcome is Outcome.SKIPPED
        assert any(w.reason == delete.blocked.message for w in delete.warnings)


def test_microsoft_365_group_created_after_the_backup_is_soft_deleted() -> None:
    m365 = body("group", "group-m365-01-response.json")
    delete = only(plan([], [state("group", m365)]), Action.SOFT_DELETE)

    assert [(r.method, r.url) for r in delete.requests] == [("DELETE", f"/groups/{m365['id']}")]


def test_an_object_restored_since_the_backup_is_soft_deleted_again() -> None:
    recovery = plan([state("user", deleted=True)], [state("user")])

    assert [(r.method, r.url) for r in only(recovery, Action.SOFT_DELETE).requests] == [
        ("DELETE", OBJECT_URLS["user"])
    ]


def test_nothing_differs_nothing_is_planned() -> None:
    assert (
        plan([state(t.name) for t in ALL_TYPES], [state(t.name) for t in ALL_TYPES]).actions == ()
    )


def test_recreate_placeholders_are_in_urls_of_the_objects_own_links() -> None:
    recovery = plan([state("group")], [])

    owners = next(a for a in actions(recovery, Action.LINKS) if a.link == "owners")
    assert (
        owners.requests[0].url
        == f"/groups/{new_id_token('21d05557-b7b6-418f-86fa-a3118d751be4')}/owners/$ref"
    )
