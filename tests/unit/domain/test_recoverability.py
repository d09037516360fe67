"""Whether each change can be undone, and the reason a reader gets when it cannot."""

from __future__ import annotations

import copy

from rewind_common.domain.changes import Action, ChangeKind
from rewind_common.domain.diff import CREATE_ONLY_REASON, SYNCED_REASON, diff_object
from rewind_common.domain.normalize import normalize_body
from rewind_common.domain.records import JsonObject
from rewind_common.domain.references import find_references
from rewind_common.registry import get_type
from tests.unit.domain.resolver import EverythingResolves, FakeResolver
from tests.unit.domain.samples import body, edited, load, state

EXCLUDED_GROUP = "3ee3a9de-0a86-4e12-a287-9769accf1ba2"
BREAK_GLASS = "124c5b6a-ffa5-483a-9b88-04c3fce5574a"


def _synced_user() -> JsonObject:
    data = body("user")
    data["onPremisesSyncEnabled"] = True
    return data


def test_synced_user_mastered_properties_are_reported_but_not_recoverable() -> None:
    before = _synced_user()
    after = edited(edited(before, "jobTitle", "Intern"), "preferredLanguage", "nl-NL")
    change = diff_object(state("user", before), state("user", after))

    assert change is not None
    job = change.property_at("jobTitle")
    assert (job.backup, job.current) == ("Product Marketing Manager", "Intern")
    assert not job.recoverable
    assert job.reason == SYNCED_REASON
    # preferredLanguage is cloud-managed even on a synced user
    assert change.property_at("preferredLanguage").recoverable
    assert change.recoverable
    assert change.reason == f"not recoverable: jobTitle: {SYNCED_REASON}"


def test_synced_user_with_only_mastered_differences_is_not_recoverable() -> None:
    before = _synced_user()
    after = edited(edited(before, "jobTitle", "Intern"), "surname", "Vance-Smith")
    change = diff_object(state("user", before), state("user", after))

    assert change is not None
    assert not change.recoverable
    assert change.reason == f"jobTitle, surname: {SYNCED_REASON}"


def test_cloud_only_user_mastered_looking_properties_are_recoverable() -> None:
    before = body("user")
    change = diff_object(state("user", before), state("user", edited(before, "jobTitle", "Intern")))

    assert change is not None
    assert change.property_at("jobTitle").recoverable
    assert change.reason is None


def test_synced_user_manager_change_is_not_recoverable() -> None:
    data = _synced_user()
    change = diff_object(
        state("user", data, links={"manager": "5bde3e51-d13b-4db1-9948-fe4b109d11a7"}),
        state("user", data, links={"manager": "87d349ed-44d7-43e1-9a83-5f2406dee5bd"}),
    )

    assert change is not None
    assert change.change is ChangeKind.LINKS_CHANGED
    assert not change.links["manager"].recoverable
    assert not change.recoverable


def test_synced_user_created_or_deleted_is_left_to_on_premises() -> None:
    data = _synced_user()
    created = diff_object(None, state("user", data))
    purged = diff_object(state("user", data), None)
    binned = diff_object(state("user", data), state("user", data, deleted=True))

    assert created is not None
    assert purged is not None
    assert binned is not None
    for change in (created, purged, binned):
        assert not change.recoverable
        assert change.reason is not None
        assert "on-premises Active Directory" in change.reason


def test_application_secrets_are_reported_never_recoverable() -> None:
    before = body("application")
    secret = {
        "keyId": "e8d4fd8d-7e4b-4d8b-8b39-12d3f1d0e0c1",
        "displayName": "ci-deploy",
        "hint": "Xy1",
        "endDateTime": "2027-01-01T00:00:00Z",
        "secretText": None,
    }
    after = edited(before, "passwordCredentials", [secret])
    change = diff_object(state("application", before), state("application", after))

    assert change is not None
    prop = change.property_at("passwordCredentials")
    assert not prop.recoverable
    assert prop.reason is not None
    assert "client secrets are never readable" in prop.reason
    assert prop.added == (secret,)
    assert not change.recoverable


def test_application_recreated_without_its_secrets_says_so() -> None:
    data = body("application")
    data["passwordCredentials"] = [{"keyId": "e8d4fd8d-7e4b-4d8b-8b39-12d3f1d0e0c1"}]
    change = diff_object(state("application", data), None)

    assert change is not None
    assert change.recoverable
    assert change.reason is not None
    assert "re-created without passwordCredentials (client secrets" in change.reason
    assert "keyCredentials" not in change.reason  # empty in the backup: nothing is lost


def test_redirect_uri_added_by_an_attacker_is_an_update_naming_the_uri() -> None:
    # application-03 is an instantiation response; the application sits inside it
    before = normalize_body(
        get_type("application"), load("application-03-response.json")["application"]
    )
    after = edited(before, "web.redirectUris", ["https://attacker.example/callback"])
    change = diff_object(state("application", before), state("application", after))

    assert change is not None
    prop = change.property_at("web.redirectUris")
    assert (prop.backup, prop.current) == ([], ["https://attacker.example/callback"])
    assert prop.added == ("https://attacker.example/callback",)
    assert prop.removed == ()
    assert prop.recoverable


def _policy_excluding(*groups: str) -> JsonObject:
    data = body("conditionalAccessPolicy")
    data["conditions"]["users"]["excludeGroups"] = list(groups)
    return data


def test_ca_exclusion_of_a_vanished_group_is_not_recoverable() -> None:
    kept = "7f2a8e0b-9d15-4c6e-a3b4-51c0d2e8f6a9"
    before = _policy_excluding(EXCLUDED_GROUP, kept)
    after = _policy_excluding(kept)
    resolver = FakeResolver().add_live("group", kept)
    change = diff_object(
        state("conditionalAccessPolicy", before),
        state("conditionalAccessPolicy", after),
        resolver=resolver,
    )

    assert change is not None
    prop = change.property_at("conditions.users.excludeGroups")
    assert (prop.backup, prop.current) == ([EXCLUDED_GROUP, kept], [kept])
    assert prop.removed == (EXCLUDED_GROUP,)
    assert not prop.recoverable
    assert prop.reason == (
        f"unresolvable reference: group {EXCLUDED_GROUP} in conditions.users.excludeGroups "
        "exists neither in the tenant nor in the backup"
    )
    assert not change.recoverable


def test_ca_exclusion_of_a_group_the_recovery_recreates_is_recoverable() -> None:
    before = _policy_excluding(EXCLUDED_GROUP)
    after = _policy_excluding()
    resolver = FakeResolver().add_planned("group", EXCLUDED_GROUP)
    change = diff_object(
        state("conditionalAccessPolicy", before),
        state("conditionalAccessPolicy", after),
        resolver=resolver,
    )

    assert change is not None
    assert change.property_at("conditions.users.excludeGroups").recoverable
    assert change.recoverable


def test_every_id_of_a_written_list_must_resolve_not_only_the_changed_one() -> None:
    # The excluded user is still excluded live, but the recovery writes the whole list.
    before = body("conditionalAccessPolicy")
    after = edited(before, "conditions.users.includeUsers", ["All"])
    resolver = FakeResolver()
    change = diff_object(
        state("conditionalAccessPolicy", before),
        state("conditionalAccessPolicy", after),
        resolver=resolver,
    )

    assert change is not None
    prop = change.property_at("conditions.users.includeUsers")
    assert not prop.recoverable
    assert "user a702a13d-a437-4a07-8a7e-8c052de62dfd" in (prop.reason or "")


def test_keywords_in_reference_lists_need_no_resolution() -> None:
    before = body("conditionalAccessPolicy")
    after = edited(before, "conditions.users.excludeUsers", [])
    resolver = FakeResolver().add_live("user", BREAK_GLASS)
    change = diff_object(
        state("conditionalAccessPolicy", before),
        state("conditionalAccessPolicy", after),
        resolver=resolver,
    )

    assert change is not None
    # GuestsOrExternalUsers sits next to the user id: a keyword, not a missing user
    assert change.property_at("conditions.users.excludeUsers").recoverable


def test_recreating_a_policy_with_an_unresolvable_reference_is_refused() -> None:
    data = _policy_excluding(EXCLUDED_GROUP)
    everything_else = copy.deepcopy(data)
    everything_else["conditions"]["users"]["excludeGroups"] = []
    change_ok = diff_object(
        state("conditionalAccessPolicy", everything_else), None, resolver=EverythingResolves()
    )
    change = diff_object(
        state("conditionalAccessPolicy", data),
        None,
        resolver=_resolver_for_all_but(data, EXCLUDED_GROUP),
    )

    assert change_ok is not None
    assert change_ok.recoverable
    assert change is not None
    assert change.action is Action.RECREATE
    assert not change.recoverable
    assert change.reason is not None
    assert f"group {EXCLUDED_GROUP} in conditions.users.excludeGroups" in change.reason


def _resolver_for_all_but(data: JsonObject, missing: str) -> FakeResolver:
    resolver = FakeResolver()
    for ref in find_references(get_type("conditionalAccessPolicy"), data):
        if ref.value != missing:
            resolver.add_live(ref.targets[0], ref.value, by=ref.by)
    return resolver


def test_security_group_created_after_the_backup_is_not_deleted_automatically() -> None:
    change = diff_object(None, state("group"))

    assert change is not None
    assert change.action is Action.SOFT_DELETE
    assert not change.recoverable
    assert change.reason is not None
    assert "permanent" in change.reason
    assert "never hard-deletes" in change.reason


def test_rogue_grant_and_assignment_are_removed_and_the_reason_says_it_is_final() -> None:
    for type_name in ("oAuth2PermissionGrant", "appRoleAssignment"):
        change = diff_object(None, state(type_name))

        assert change is not None
        assert change.action is Action.SOFT_DELETE
        assert change.recoverable
        assert change.reason is not None
        assert "deletes it permanently" in change.reason


def test_singletons_created_or_deleted_cannot_be_acted_on() -> None:
    created = diff_object(None, state("authorizationPolicy"))
    purged = diff_object(state("organization"), None)

    assert created is not None
    assert purged is not None
    assert not created.recoverable
    assert created.reason == "the authorizationPolicy cannot be deleted"
    assert not purged.recoverable
    assert purged.reason == "the organization cannot be created through Graph"


def test_create_only_property_differences_are_not_recoverable_by_update() -> None:
    before = body("group")
    after = edited(before, "isAssignableToRole", True)
    change = diff_object(state("group", before), state("group", after))

    assert change is not None
    prop = change.property_at("isAssignableToRole")
    assert (prop.backup, prop.current) == (None, True)
    assert not prop.recoverable
    assert prop.reason == CREATE_ONLY_REASON


def test_manager_replaced_shows_the_old_one_removed_and_the_new_one_added() -> None:
    old, new = "5bde3e51-d13b-4db1-9948-fe4b109d11a7", "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2"
    change = diff_object(
        state("user", links={"manager": old}), state("user", links={"manager": new})
    )

    assert change is not None
    assert change.to_dict()["links"]["manager"] == {
        "added": [new],
        "removed": [old],
        "recoverable": True,
        "reason": None,
    }


def test_manager_cleared_and_manager_set() -> None:
    manager = "5bde3e51-d13b-4db1-9948-fe4b109d11a7"
    cleared = diff_object(state("user", links={"manager": manager}), state("user", links={}))
    assigned = diff_object(state("user", links={}), state("user", links={"manager": manager}))

    assert cleared is not None
    assert assigned is not None
    assert (cleared.links["manager"].added, cleared.links["manager"].removed) == ((), (manager,))
    assert (assigned.links["manager"].added, assigned.links["manager"].removed) == ((manager,), ())


def test_an_unresolvable_former_manager_makes_the_manager_unrecoverable() -> None:
    old, new = "5bde3e51-d13b-4db1-9948-fe4b109d11a7", "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2"
    change = diff_object(
        state("user", links={"manager": old}),
        state("user", links={"manager": new}),
        resolver=FakeResolver().add_live("user", new),
    )

    assert change is not None
    assert not change.links["manager"].recoverable
    assert change.links["manager"].unresolvable == (old,)
    assert not change.recoverable


def test_members_that_cannot_be_resolved_are_named_and_the_others_still_added_back() -> None:
    alive, gone = "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "4c7be08b-361f-41a8-b1ef-1712f7a3dfb2"
    owners = ("5bde3e51-d13b-4db1-9948-fe4b109d11a7",)
    change = diff_object(
        state("group", links={"members": (alive, gone), "owners": owners}),
        state("group", links={"members": (), "owners": owners}),
        resolver=FakeResolver().add_live("user", alive),
    )

    assert change is not None
    members = change.links["members"]
    assert members.removed == tuple(sorted((alive, gone)))
    assert members.unresolvable == (gone,)
    assert members.recoverable
    assert change.recoverable
    assert change.reason is not None
    assert change.reason.startswith("not recoverable: members: unresolvable reference:")
    assert gone in change.reason
    assert alive not in change.reason


def test_synced_group_membership_is_mastered_on_premises_but_owners_are_not() -> None:
    data = body("group")
    data["onPremisesSyncEnabled"] = True
    change = diff_object(
        state("group", data, links={"members": ("87d349ed-44d7-43e1-9a83-5f2406dee5bd",)}),
        state("group", data, links={"owners": ("4c7be08b-361f-41a8-b1ef-1712f7a3dfb2",)}),
    )

    assert change is not None
    assert not change.links["members"].recoverable
    assert change.links["owners"].recoverable
    assert change.recoverable


def test_a_missing_group_in_one_method_configuration_blocks_the_whole_array() -> None:
    before = body("authenticationMethodsPolicy")
    gone = "3ee3a9de-0a86-4e12-a287-9769accf1ba2"
    before["authenticationMethodConfigurations"][0]["excludeTargets"] = [
        {"targetType": "group", "id": gone}
    ]
    after = copy.deepcopy(before)
    after["authenticationMethodConfigurations"][0]["excludeTargets"] = []
    change = diff_object(
        state("authenticationMethodsPolicy", before),
        state("authenticationMethodsPolicy", after),
        resolver=FakeResolver(),
    )

    assert change is not None
    prop = change.property_at("authenticationMethodConfigurations")
    assert not prop.recoverable
    assert prop.reason == (
        f"unresolvable reference: group {gone} in "
        "authenticationMethodConfigurations[].excludeTargets[].id "
        "exists neither in the tenant nor in the backup"
    )
