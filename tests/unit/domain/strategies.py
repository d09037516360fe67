"""Registry-aware hypothesis strategies: bodies shaped like Graph's, and the ways Graph
spells the same state differently."""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from rewind_common.domain.equivalence import is_empty
from rewind_common.domain.paths import join_path
from rewind_common.domain.records import LinkValue, ObjectState, link_value
from rewind_common.registry import ObjectType, get_type, type_names

Json = dict[str, Any]

GUIDS = st.uuids().map(str)
WORDS = st.text(alphabet="abcdeXYZ -", min_size=1, max_size=8)
EMAILS = st.builds(
    "{}@{}".format,
    st.text(alphabet="adelvAV", min_size=1, max_size=4),
    st.sampled_from(["contoso.com", "Fabrikam.com"]),
)
URLS = st.builds("https://{}.example/{}".format, st.sampled_from(["app", "Auth", "x"]), WORDS)
TIMESTAMPS = st.sampled_from(["2024-01-01T00:00:00Z", "2025-06-30T12:34:56.789Z"])
# A handful of ids, so independently drawn lists overlap and keyed elements collide.
FEW_GUIDS = st.sampled_from([f"{n:08x}-1111-4222-8333-444455556666" for n in range(6)])


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def obj(required: dict[str, Any] | None = None, **optional: Any) -> st.SearchStrategy[Json]:
    return st.fixed_dictionaries(required or {}, optional=optional)


def sets(strategy: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[list[Any]]:
    return st.lists(strategy, max_size=max_size)


def keyed(
    strategy: st.SearchStrategy[Json], key: str, max_size: int = 3
) -> st.SearchStrategy[list[Json]]:
    return st.lists(strategy, max_size=max_size, unique_by=lambda item: item[key])


USER_ID = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
GROUP_ID = "21d05557-b7b6-418f-86fa-a3118d751be4"
APP_ID = "0d0021e2-eaab-4b9f-a5ad-38c55337d63e"
POLICY_ID = "7359d0e0-d8a9-4afa-8a93-e23e099d7be8"
LOCATION_ID = "0854951d-5fc0-4eb1-b392-9b2c9d7949c2"
SERVICE_PRINCIPAL_ID = "59e617e5-e447-4adc-8b88-00af644d7c92"
ORGANIZATION_ID = "84841066-274d-4ec0-a5c1-276be684bdd3"
# Grants and assignments have Graph's opaque base64url ids, not GUIDs.
GRANT_ID = "47nZsM8O_UuNq5Jz3QValETpqX7OcT1EgRxx6AR7VXqdkr0_VoxiRIUeDrmns6Kl"
ASSIGNMENT_ID = "-WmtM5na7Uus0D8kI1yylpU9Mdo0Pb9OoBJvd3T5eKc"

USERS = obj(
    {"id": st.just(USER_ID)},
    displayName=WORDS,
    jobTitle=maybe(WORDS),
    accountEnabled=maybe(st.booleans()),
    userPrincipalName=EMAILS,
    mail=maybe(EMAILS),
    otherMails=sets(EMAILS),
    businessPhones=st.lists(st.sampled_from(["+1 425 555 0100", "+31 20 555 0101"]), unique=True),
    identities=sets(
        obj(
            {
                "signInType": st.sampled_from(["userName", "emailAddress", "federated"]),
                "issuer": st.sampled_from(["contoso.onmicrosoft.com", "facebook.com"]),
                "issuerAssignedId": WORDS,
            }
        )
    ),
    onPremisesExtensionAttributes=obj(
        extensionAttribute1=maybe(WORDS), extensionAttribute2=maybe(WORDS)
    ),
    employeeOrgData=maybe(obj(division=maybe(WORDS), costCenter=maybe(WORDS))),
    assignedLicenses=keyed(obj({"skuId": FEW_GUIDS, "disabledPlans": sets(FEW_GUIDS)}), "skuId"),
    createdDateTime=TIMESTAMPS,
    signInActivity=maybe(obj(lastSignInDateTime=TIMESTAMPS)),
)

GROUPS = obj(
    {"id": st.just(GROUP_ID), "displayName": WORDS},
    description=maybe(WORDS),
    groupTypes=st.lists(st.sampled_from(["Unified", "DynamicMembership"]), unique=True),
    mailNickname=WORDS,
    mailEnabled=st.booleans(),
    securityEnabled=st.booleans(),
    membershipRule=maybe(st.just('user.department -eq "Sales"')),
    visibility=maybe(st.sampled_from(["Private", "Public"])),
    isAssignableToRole=maybe(st.booleans()),
    renewedDateTime=TIMESTAMPS,
)

_PERMISSION_SCOPE = obj(
    {"id": FEW_GUIDS, "value": WORDS, "type": st.sampled_from(["User", "Admin"])},
    isEnabled=st.booleans(),
    adminConsentDisplayName=maybe(WORDS),
    adminConsentDescription=maybe(WORDS),
    userConsentDisplayName=maybe(WORDS),
    userConsentDescription=maybe(WORDS),
)
_APP_ROLE = obj(
    {
        "id": FEW_GUIDS,
        "displayName": WORDS,
        "allowedMemberTypes": st.lists(
            st.sampled_from(["User", "Application"]), min_size=1, unique=True
        ),
    },
    value=maybe(WORDS),
    isEnabled=st.booleans(),
    description=maybe(WORDS),
    origin=maybe(st.just("Application")),
)
APPLICATIONS = obj(
    {"id": st.just(APP_ID), "displayName": WORDS},
    web=obj(
        redirectUris=sets(URLS),
        homePageUrl=maybe(URLS),
        implicitGrantSettings=obj(
            enableIdTokenIssuance=maybe(st.booleans()),
            enableAccessTokenIssuance=maybe(st.booleans()),
        ),
    ),
    spa=maybe(obj(redirectUris=sets(URLS))),
    identifierUris=sets(URLS),
    tags=sets(WORDS),
    requiredResourceAccess=keyed(
        obj(
            {
                "resourceAppId": FEW_GUIDS,
                "resourceAccess": keyed(
                    obj({"id": FEW_GUIDS, "type": st.sampled_from(["Scope", "Role"])}), "id"
                ),
            }
        ),
        "resourceAppId",
    ),
    appRoles=keyed(_APP_ROLE, "id"),
    api=obj(
        requestedAccessTokenVersion=maybe(st.sampled_from([1, 2, 2.0])),
        oauth2PermissionScopes=keyed(_PERMISSION_SCOPE, "id"),
        knownClientApplications=sets(FEW_GUIDS),
    ),
    passwordCredentials=keyed(obj({"keyId": FEW_GUIDS}, displayName=maybe(WORDS)), "keyId"),
    createdDateTime=TIMESTAMPS,
)

_USER_REFS = sets(FEW_GUIDS | st.sampled_from(["All", "None", "GuestsOrExternalUsers"]))
_CONDITIONS = obj(
    {
        "users": obj(
            includeUsers=_USER_REFS,
            excludeUsers=_USER_REFS,
            includeGroups=sets(FEW_GUIDS),
            excludeGroups=sets(FEW_GUIDS),
            includeRoles=sets(FEW_GUIDS),
        ),
        "applications": obj(
            includeApplications=sets(FEW_GUIDS | st.just("All")),
            excludeApplications=sets(FEW_GUIDS),
            includeUserActions=sets(st.sampled_from(["urn:user:registersecurityinfo"])),
        ),
    },
    platforms=maybe(
        obj(
            includePlatforms=sets(st.sampled_from(["all", "android", "iOS"])),
            excludePlatforms=sets(st.sampled_from(["windowsPhone", "macOS"])),
        )
    ),
    locations=maybe(
        obj(
            includeLocations=sets(st.sampled_from(["All", "AllTrusted"]) | FEW_GUIDS),
            excludeLocations=sets(FEW_GUIDS),
        )
    ),
    clientAppTypes=sets(
        st.sampled_from(["all", "browser", "mobileAppsAndDesktopClients", "exchangeActiveSync"])
    ),
    signInRiskLevels=sets(st.sampled_from(["low", "medium", "high"])),
)
POLICIES = obj(
    {
        "id": st.just(POLICY_ID),
        "displayName": WORDS,
        "state": st.sampled_from(["enabled", "disabled", "enabledForReportingButNotEnforced"]),
        "conditions": _CONDITIONS,
    },
    grantControls=maybe(
        obj(
            {
                "operator": st.sampled_from(["OR", "AND"]),
                "builtInControls": sets(st.sampled_from(["mfa", "compliantDevice", "block"])),
            },
            termsOfUse=sets(FEW_GUIDS),
        )
    ),
    sessionControls=maybe(
        obj(
            signInFrequency=maybe(
                obj(
                    {
                        "value": st.integers(1, 24),
                        "type": st.sampled_from(["hours", "days"]),
                        "isEnabled": st.booleans(),
                    }
                )
            ),
            applicationEnforcedRestrictions=maybe(obj(isEnabled=st.booleans())),
        )
    ),
    createdDateTime=TIMESTAMPS,
    modifiedDateTime=maybe(TIMESTAMPS),
)

_CIDRS = st.sampled_from(["12.34.221.11/22", "2001:0:9d38:90d6:0:0:0:0/63", "10.0.0.0/8"])
NAMED_LOCATIONS = obj(
    {
        "@odata.type": st.just("#microsoft.graph.ipNamedLocation"),
        "id": st.just(LOCATION_ID),
        "displayName": WORDS,
    },
    isTrusted=st.booleans(),
    ipRanges=keyed(
        obj({"@odata.type": st.just("#microsoft.graph.iPv4CidrRange"), "cidrAddress": _CIDRS}),
        "cidrAddress",
    ),
    modifiedDateTime=TIMESTAMPS,
)

_TARGET = {"targetType": st.just("group"), "id": FEW_GUIDS | st.just("all_users")}
_EXCLUDES = keyed(obj(_TARGET), "id")
_METHOD_INCLUDES = keyed(obj(_TARGET, isRegistrationRequired=st.booleans()), "id")
_CAMPAIGN_INCLUDES = keyed(
    obj(_TARGET, targetedAuthenticationMethod=st.just("microsoftAuthenticator")), "id"
)
AUTH_METHODS_POLICIES = obj(
    {"id": st.just("authenticationMethodsPolicy")},
    registrationEnforcement=obj(
        authenticationMethodsRegistrationCampaign=obj(
            snoozeDurationInDays=st.integers(0, 14),
            state=st.sampled_from(["default", "enabled", "disabled"]),
            includeTargets=_CAMPAIGN_INCLUDES,
            excludeTargets=_EXCLUDES,
        )
    ),
    authenticationMethodConfigurations=keyed(
        obj(
            {
                "id": st.sampled_from(["Fido2", "Sms", "Email", "TemporaryAccessPass"]),
                "state": st.sampled_from(["enabled", "disabled"]),
            },
            includeTargets=_METHOD_INCLUDES,
            excludeTargets=_EXCLUDES,
        ),
        "id",
    ),
    lastModifiedDateTime=TIMESTAMPS,
)

_APP_IDS = st.sampled_from(
    ["65415bb1-9267-4313-bbf5-ae259732ee12", "00000003-0000-0000-c000-000000000000"]
)
_KEY_CREDENTIAL = obj(
    {"keyId": FEW_GUIDS},
    displayName=maybe(st.just("CN=awsAPI")),
    type=st.sampled_from(["AsymmetricX509Cert", "X509CertAndPassword"]),
    usage=st.sampled_from(["Sign", "Verify"]),
    customKeyIdentifier=maybe(st.just("lY85bR8r6yWTW6jnciNEONwlVhDyiQjdVLgPDnkI5mA=")),
    key=st.none(),  # Graph never returns key material on a read
    startDateTime=TIMESTAMPS,
    endDateTime=TIMESTAMPS,
)
_PASSWORD_CREDENTIAL = obj(
    {"keyId": FEW_GUIDS},
    displayName=maybe(WORDS),
    hint=maybe(st.just("618")),
    secretText=st.none(),
    startDateTime=TIMESTAMPS,
    endDateTime=TIMESTAMPS,
)
SERVICE_PRINCIPALS = obj(
    {"id": st.just(SERVICE_PRINCIPAL_ID), "appId": _APP_IDS, "displayName": WORDS},
    accountEnabled=maybe(st.booleans()),
    appDisplayName=maybe(WORDS),
    appDescription=maybe(WORDS),
    appOwnerOrganizationId=maybe(FEW_GUIDS),
    appRoleAssignmentRequired=st.booleans(),
    description=maybe(WORDS),
    notes=maybe(WORDS),
    homepage=maybe(URLS),
    loginUrl=maybe(URLS),
    logoutUrl=maybe(URLS),
    publisherName=maybe(WORDS),  # returned by Graph though absent from the v1.0 metadata
    preferredSingleSignOnMode=maybe(st.just("saml")),
    preferredTokenSigningKeyThumbprint=maybe(st.just("A7D3C4626B8A84FDA868CCC67D274D402FFD0A10")),
    samlSingleSignOnSettings=maybe(obj(relayState=maybe(URLS))),
    servicePrincipalType=st.just("Application"),
    signInAudience=st.sampled_from(["AzureADMyOrg", "AzureADandPersonalMicrosoftAccount"]),
    tokenEncryptionKeyId=maybe(FEW_GUIDS),
    alternativeNames=sets(WORDS),
    replyUrls=sets(URLS),
    servicePrincipalNames=sets(_APP_IDS | URLS),
    notificationEmailAddresses=sets(EMAILS),
    tags=sets(st.just("WindowsAzureActiveDirectoryIntegratedApp") | WORDS),
    appRoles=keyed(_APP_ROLE, "id"),
    oauth2PermissionScopes=keyed(_PERMISSION_SCOPE, "id"),
    addIns=sets(
        obj(
            {
                "id": FEW_GUIDS,
                "type": WORDS,
                "properties": sets(obj({"key": WORDS, "value": WORDS})),
            }
        ),
        max_size=1,
    ),
    info=obj(
        termsOfServiceUrl=maybe(URLS),
        supportUrl=maybe(URLS),
        privacyStatementUrl=maybe(URLS),
        marketingUrl=maybe(URLS),
        logoUrl=maybe(URLS),
    ),
    verifiedPublisher=obj(
        displayName=maybe(WORDS),
        verifiedPublisherId=maybe(st.just("1234567")),
        addedDateTime=maybe(TIMESTAMPS),
    ),
    keyCredentials=keyed(_KEY_CREDENTIAL, "keyId", max_size=2),
    passwordCredentials=keyed(_PASSWORD_CREDENTIAL, "keyId", max_size=2),
    deletedDateTime=st.none(),
)

AUTHORIZATION_POLICIES = obj(
    {"id": st.just("authorizationPolicy")},
    displayName=st.just("Authorization Policy"),
    description=st.just("Used to manage authorization related settings across the company."),
    allowInvitesFrom=maybe(
        st.sampled_from(
            ["none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone"]
        )
    ),
    allowedToSignUpEmailBasedSubscriptions=st.booleans(),
    allowedToUseSSPR=st.booleans(),
    allowEmailVerifiedUsersToJoinOrganization=st.booleans(),
    allowUserConsentForRiskyApps=maybe(st.booleans()),
    blockMsolPowerShell=maybe(st.booleans()),
    guestUserRoleId=maybe(st.just("10dae51f-b6af-4016-8d66-8c2a99b929b3") | FEW_GUIDS),
    defaultUserRolePermissions=obj(
        {
            "allowedToCreateApps": st.booleans(),
            "allowedToCreateSecurityGroups": st.booleans(),
            "allowedToReadOtherUsers": st.booleans(),
        },
        allowedToCreateTenants=maybe(st.booleans()),
        allowedToReadBitlockerKeysForOwnedDevice=maybe(st.booleans()),
        permissionGrantPoliciesAssigned=sets(
            st.sampled_from(
                ["managePermissionGrantsForSelf.microsoft-user-default-low", "just-user-read"]
            )
        ),
    ),
)

_PHONES = st.sampled_from(["425-555-0100", "+31 20 555 0101"])
ORGANIZATIONS = obj(
    {"id": st.just(ORGANIZATION_ID), "displayName": WORDS},
    businessPhones=sets(_PHONES),
    city=maybe(WORDS),
    country=maybe(WORDS),
    countryLetterCode=st.sampled_from(["NL", "US"]),
    defaultUsageLocation=maybe(st.sampled_from(["NL", "US"])),
    postalCode=maybe(WORDS),
    state=maybe(WORDS),
    street=maybe(WORDS),
    preferredLanguage=maybe(st.sampled_from(["en", "nl"])),
    tenantType=st.just("AAD"),
    partnerTenantType=maybe(
        st.sampled_from(["resellerPartnerDelegatedAdmin", "breadthPartner", "microsoftSupport"])
    ),
    # This flag and the quota are in Graph's answers though not in the v1.0 metadata.
    isMultipleDataLocationsForServicesEnabled=maybe(st.booleans()),
    onPremisesSyncEnabled=maybe(st.booleans()),
    onPremisesLastSyncDateTime=maybe(TIMESTAMPS),
    createdDateTime=TIMESTAMPS,
    directorySizeQuota=obj(used=st.integers(0, 50000), total=st.just(50000)),
    marketingNotificationEmails=sets(EMAILS),
    securityComplianceNotificationMails=sets(EMAILS),
    securityComplianceNotificationPhones=sets(_PHONES),
    technicalNotificationMails=sets(EMAILS),
    # Empty strings, as Graph's own example answers them: values, not absences.
    privacyProfile=maybe(obj(contactEmail=EMAILS | st.just(""), statementUrl=URLS | st.just(""))),
    assignedPlans=sets(
        obj(
            {
                "assignedDateTime": TIMESTAMPS,
                "capabilityStatus": st.sampled_from(["Enabled", "Deleted"]),
                "service": st.sampled_from(["exchange", "MultiFactorService", "SCO"]),
                "servicePlanId": FEW_GUIDS,
            }
        )
    ),
    provisionedPlans=sets(
        obj(
            {
                "capabilityStatus": st.sampled_from(["Enabled", "Deleted"]),
                "provisioningStatus": st.just("Success"),
                "service": st.sampled_from(["exchange", "Adallom"]),
            }
        )
    ),
    verifiedDomains=keyed(
        obj(
            {"name": st.sampled_from(["Contoso.com", "contoso.onmicrosoft.com", "fabrikam.com"])},
            capabilities=st.just("Email, OfficeCommunicationsOnline"),
            isDefault=st.booleans(),
            isInitial=st.booleans(),
            type=st.just("Managed"),
        ),
        "name",
    ),
    deletedDateTime=st.none(),
)

# A grant's scope is one string of space-separated permission values.
_SCOPES = st.lists(
    st.sampled_from(
        ["User.Read", "User.Read.All", "Group.Read.All", "Mail.ReadWrite", "openid", "profile"]
    ),
    min_size=1,
    max_size=4,
    unique=True,
).map(" ".join)
_GRANT = {
    "id": st.just(GRANT_ID),
    "clientId": FEW_GUIDS,
    "resourceId": FEW_GUIDS,
    "scope": _SCOPES,
}
# A grant for one user names that user; a grant for all users has no principal.
GRANTS = st.one_of(
    obj({**_GRANT, "consentType": st.just("Principal"), "principalId": FEW_GUIDS}),
    obj({**_GRANT, "consentType": st.just("AllPrincipals"), "principalId": st.none()}),
)

APP_ROLE_ASSIGNMENTS = obj(
    {
        "id": st.just(ASSIGNMENT_ID),
        # The all-zero role is the default access of an application without app roles.
        "appRoleId": FEW_GUIDS | st.just("00000000-0000-0000-0000-000000000000"),
        "principalId": FEW_GUIDS,
        "principalType": st.sampled_from(["User", "Group", "ServicePrincipal"]),
        "resourceId": FEW_GUIDS,
    },
    principalDisplayName=maybe(WORDS),
    resourceDisplayName=maybe(WORDS),
    createdDateTime=st.sampled_from(["2021-02-15T16:14:59.8643039Z", "2022-05-18T15:37:21Z"]),
    deletedDateTime=st.none(),
)

BODIES: dict[str, st.SearchStrategy[Json]] = {
    "user": USERS,
    "group": GROUPS,
    "application": APPLICATIONS,
    "servicePrincipal": SERVICE_PRINCIPALS,
    "conditionalAccessPolicy": POLICIES,
    "namedLocation": NAMED_LOCATIONS,
    "authorizationPolicy": AUTHORIZATION_POLICIES,
    "authenticationMethodsPolicy": AUTH_METHODS_POLICIES,
    "organization": ORGANIZATIONS,
    "oAuth2PermissionGrant": GRANTS,
    "appRoleAssignment": APP_ROLE_ASSIGNMENTS,
}

_MEMBERS = st.lists(FEW_GUIDS, max_size=4).map(lambda ids: link_value(ids, many=True))
LINKS: dict[str, st.SearchStrategy[dict[str, LinkValue]]] = {
    "user": st.fixed_dictionaries({"manager": maybe(FEW_GUIDS)}),
    "group": st.fixed_dictionaries({"members": _MEMBERS, "owners": _MEMBERS}),
    "application": st.fixed_dictionaries({"owners": _MEMBERS}),
    "servicePrincipal": st.fixed_dictionaries({"owners": _MEMBERS}),
}

#: Every registered type: properties run once per type, so none is left to chance, and a
#: type added to the registry without strategies fails them.
TYPES = sorted(type_names())
TYPE_NAMES = st.sampled_from(TYPES)
#: Examples per type and property: the default 100 for each of the types would slow
#: every run, and successive runs draw different examples anyway.
PER_TYPE = settings(max_examples=15)


@st.composite
def states(draw: st.DrawFn, type_name: str) -> ObjectState:
    """An active object of ``type_name`` with a drawn body and drawn links."""
    body = draw(BODIES[type_name])
    links = draw(LINKS.get(type_name, st.just({})))
    return ObjectState(type_name, str(body[get_type(type_name).key]), body, links=links)


@st.composite
def state_pairs(draw: st.DrawFn, type_name: str) -> tuple[ObjectState, ObjectState]:
    """Two states of one object; the second shares parts of the first, so pairs range
    from identical to entirely different."""
    first = draw(states(type_name))
    other = draw(states(type_name))
    rnd = draw(st.randoms(use_true_random=False))
    body = _mix(first.body, other.body, rnd)
    links = {name: rnd.choice([first.links[name], other.links[name]]) for name in first.links}
    return first, ObjectState(type_name, first.object_id, body, links=links)


def _mix(a: Any, b: Any, rnd: random.Random) -> Any:
    if isinstance(a, dict) and isinstance(b, dict) and rnd.random() < 0.7:
        out: Json = {}
        for name in list(a) + [n for n in b if n not in a]:
            pick = rnd.choice(["a", "b", "mix", "drop"] if name in a and name in b else ["a", "b"])
            if pick == "mix":
                out[name] = _mix(a[name], b[name], rnd)
            elif pick == "a" and name in a:
                out[name] = copy.deepcopy(a[name])
            elif pick == "b" and name in b:
                out[name] = copy.deepcopy(b[name])
        return out
    return copy.deepcopy(rnd.choice([a, b]))


def shuffle_unordered(object_type: ObjectType, value: Any, rnd: random.Random) -> Any:
    """``value`` with every unordered collection (at any depth) in a random order."""
    unordered = {u.path for u in object_type.unordered}

    def walk(item: Any, path: str) -> Any:
        if isinstance(item, dict):
            return {name: walk(child, join_path(path, name)) for name, child in item.items()}
        if isinstance(item, list):
            items = [walk(child, f"{path}[]") for child in item]
            if path in unordered:
                rnd.shuffle(items)
            return items
        return item

    return walk(value, "")


def respell_empties(value: Any, rnd: random.Random) -> Any:
    """``value`` with every empty member spelled another way (``null``, ``[]``, ``{}``,
    or left out) and some new empty members added."""
    if isinstance(value, dict):
        out: Json = {}
        for name, child in value.items():
            if is_empty(child):
                spelling: Any = rnd.choice(["drop", None, [], {}])
                if spelling != "drop":
                    out[name] = spelling
            else:
                out[name] = respell_empties(child, rnd)
        if rnd.random() < 0.3:
            out["unsetProperty"] = rnd.choice([None, [], {}, {"nested": None}])
        return out
    if isinstance(value, list):
        return [respell_empties(child, rnd) for child in value]
    return value


def touch_volatile(object_type: ObjectType, body: Json, rnd: random.Random) -> Json:
    """``body`` with every volatile and service-set property given some other value."""
    out = copy.deepcopy(body)
    for name in sorted((object_type.volatile | object_type.read_only) - {object_type.key}):
        out[name] = rnd.choice(["2030-01-01T00:00:00Z", None, 7, {"changed": True}, ["x"]])
    return out
