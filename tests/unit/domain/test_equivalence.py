"""No false drift: what Graph treats as the same value compares equal."""

from __future__ import annotations

import copy

from rewind_common.domain.diff import diff_object
from rewind_common.domain.equivalence import (
    comparison_form,
    equivalent,
    is_empty,
    is_ignored,
    values_equivalent,
)
from rewind_common.registry import get_type
from tests.unit.domain.samples import body, edited, load, state

CA = get_type("conditionalAccessPolicy")
USER = get_type("user")
APP = get_type("application")


def test_null_missing_and_empty_are_equal_recursively() -> None:
    policy = body("conditionalAccessPolicy")
    variant = copy.deepcopy(policy)
    variant["sessionControls"]["applicationEnforcedRestrictions"] = {}
    variant["sessionControls"]["persistentBrowser"] = {"mode": None, "isEnabled": None}
    variant["conditions"]["users"]["includeGroups"] = None
    del variant["conditions"]["users"]["excludeGroups"]
    variant["conditions"]["devices"] = {"deviceFilter": None}

    assert equivalent(CA, policy, variant)
    assert (
        diff_object(
            state("conditionalAccessPolicy", policy), state("conditionalAccessPolicy", variant)
        )
        is None
    )


def test_empty_string_and_false_are_values_not_absence() -> None:
    user = body("user")

    assert not equivalent(USER, user, edited(user, "jobTitle", ""))
    assert not equivalent(
        USER, edited(user, "accountEnabled", None), edited(user, "accountEnabled", False)
    )
    assert not values_equivalent(USER, "accountEnabled", True, 1)


def test_integral_floats_equal_integers() -> None:
    assert values_equivalent(APP, "api.requestedAccessTokenVersion", 2, 2.0)


def test_unordered_collections_compare_as_sets() -> None:
    policy = body("conditionalAccessPolicy")
    shuffled = copy.deepcopy(policy)
    shuffled["conditions"]["applications"]["excludeApplications"].reverse()
    shuffled["grantControls"]["builtInControls"].reverse()

    assert equivalent(CA, policy, shuffled)


def test_a_grants_scopes_compare_as_a_set_of_words() -> None:
    grant = get_type("oAuth2PermissionGrant")
    consent = {"id": "g", "clientId": "c", "resourceId": "r", "scope": "User.Read openid"}
    # consent appends a scope, an admin's edit may reorder them; Graph pads with spaces
    reordered = {**consent, "scope": " openid  User.Read "}
    widened = {**consent, "scope": "openid User.Read Mail.Read"}

    assert equivalent(grant, consent, reordered)
    assert (
        diff_object(
            state("oAuth2PermissionGrant", consent), state("oAuth2PermissionGrant", reordered)
        )
        is None
    )
    change = diff_object(
        state("oAuth2PermissionGrant", consent), state("oAuth2PermissionGrant", widened)
    )
    assert change is not None
    assert [(p.path, p.backup, p.current) for p in change.properties] == [
        ("scope", "User.Read openid", "openid User.Read Mail.Read")
    ]
    assert equivalent(grant, {**consent, "scope": " "}, {**consent, "scope": None})


def test_ordered_collections_keep_their_order() -> None:
    user = edited(body("user"), "businessPhones", ["+1 425 555 0109", "+1 425 555 0110"])
    swapped = edited(user, "businessPhones", ["+1 425 555 0110", "+1 425 555 0109"])

    # businessPhones is not declared unordered for users: the first number is the primary
    assert not equivalent(USER, user, swapped)


def test_keyed_object_collections_ignore_order_at_every_level() -> None:
    app = body("application")
    app["requiredResourceAccess"] = load("application-update-02.json")["requiredResourceAccess"] + [
        {
            "resourceAppId": "00000003-0000-0000-c000-000000000000",
            "resourceAccess": [{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}],
        }
    ]
    reordered = copy.deepcopy(app)
    reordered["requiredResourceAccess"].reverse()
    reordered["requiredResourceAccess"][1]["resourceAccess"].reverse()

    assert equivalent(APP, app, reordered)
    reordered["requiredResourceAccess"][1]["resourceAccess"][0]["type"] = "Scope"
    assert not equivalent(APP, app, reordered)


def test_case_insensitive_properties_ignore_case_but_others_do_not() -> None:
    user = body("user")
    shouted = edited(user, "userPrincipalName", user["userPrincipalName"].upper())
    shouted = edited(shouted, "otherMails", ["ADELE@Fabrikam.com"])
    quiet = edited(user, "otherMails", ["adele@fabrikam.com"])

    assert equivalent(USER, quiet, shouted)
    assert not equivalent(USER, user, edited(user, "displayName", "ADELE VANCE"))


def test_notification_addresses_compare_as_mail_does() -> None:
    """Who is told about expiring certificates and security notices: the same mailbox
    written in other case is no drift, another mailbox is."""
    organization, sp = get_type("organization"), get_type("servicePrincipal")
    org = body("organization")
    for name in ("technicalNotificationMails", "securityComplianceNotificationMails"):
        written = edited(org, name, ["SecOps@Contoso.com"])
        assert equivalent(organization, written, edited(org, name, ["secops@contoso.com"]))
        assert not equivalent(organization, written, edited(org, name, ["attacker@evil.test"]))
    app = body("servicePrincipal")
    told = edited(app, "notificationEmailAddresses", ["Admin@Contoso.com"])
    assert equivalent(sp, told, edited(app, "notificationEmailAddresses", ["admin@contoso.com"]))
    assert not equivalent(sp, told, edited(app, "notificationEmailAddresses", ["x@evil.test"]))


def test_volatile_and_server_set_properties_are_ignored_create_only_are_not() -> None:
    user = body("user")
    touched = edited(user, "signInActivity", {"lastSignInDateTime": "2026-01-01T00:00:00Z"})
    touched = edited(touched, "securityIdentifier", "S-1-12-1-1")
    touched = edited(touched, "createdDateTime", "2026-01-01T00:00:00Z")

    assert equivalent(USER, user, touched)
    assert is_ignored(USER, "signInActivity")
    assert not is_ignored(get_type("group"), "isAssignableToRole")


def test_the_organization_compares_only_what_an_update_may_write() -> None:
    org_type = get_type("organization")
    org = body("organization")
    grown = edited(org, "directorySizeQuota", {"used": 9000, "total": 50000})

    assert equivalent(org_type, org, grown)
    assert not equivalent(org_type, org, edited(org, "technicalNotificationMails", []))


def test_annotations_other_than_the_derived_type_are_ignored() -> None:
    location_type = get_type("namedLocation")
    raw = load("named-location-ip-01-response.json")
    country = copy.deepcopy(raw)
    country["@odata.type"] = "#microsoft.graph.countryNamedLocation"

    assert equivalent(location_type, raw, {k: v for k, v in raw.items() if k != "@odata.context"})
    assert not equivalent(location_type, raw, country)


def test_comparison_form_drops_empties_and_sorts_sets() -> None:
    form = comparison_form(CA, body("conditionalAccessPolicy"))

    assert "excludeGroups" not in form["conditions"]["users"]
    assert form["conditions"]["users"]["excludeUsers"] == [
        "124c5b6a-ffa5-483a-9b88-04c3fce5574a",
        "GuestsOrExternalUsers",
    ]
    assert "modifiedDateTime" not in form
    assert "id" not in form


def test_is_empty() -> None:
    assert is_empty(None)
    assert is_empty([])
    assert is_empty({})
    assert is_empty({"a": {"b": []}})
    assert not is_empty("")
    assert not is_empty(0)
    assert not is_empty([None])
    assert not is_empty(False)
