"""Registry-aware hypothesis strategies: bodies shaped like Graph's, and the ways Graph
spells the same state differently."""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import strategies as st

from rewind_common.domain.equivalence import is_empty
from rewind_common.domain.paths import join_path
from rewind_common.domain.records import LinkValue, ObjectState, link_value
from rewind_common.registry import ObjectType, get_type

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
    appRoles=keyed(
        obj(
            {
                "id": FEW_GUIDS,
                "displayName": WORDS,
                "allowedMemberTypes": st.lists(
                    st.sampled_from(["User", "Application"]), min_size=1, unique=True
                ),
            },
            value=maybe(WORDS),
            isEnabled=st.booleans(),
        ),
        "id",
    ),
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

_TARGETS = keyed(
    obj(
        {"targetType": st.just("group"), "id": FEW_GUIDS | st.just("all_users")},
        isRegistrationRequired=st.booleans(),
    ),
    "id",
)
AUTH_METHODS_POLICIES = obj(
    {"id": st.just("authenticationMethodsPolicy")},
    registrationEnforcement=obj(
        authenticationMethodsRegistrationCampaign=obj(
            snoozeDurationInDays=st.integers(0, 14),
            state=st.sampled_from(["default", "enabled", "disabled"]),
            includeTargets=_TARGETS,
            excludeTargets=_TARGETS,
        )
    ),
    authenticationMethodConfigurations=keyed(
        obj(
            {
                "id": st.sampled_from(["Fido2", "Sms", "Email", "TemporaryAccessPass"]),
                "state": st.sampled_from(["enabled", "disabled"]),
            },
            includeTargets=_TARGETS,
            excludeTargets=_TARGETS,
        ),
        "id",
    ),
    lastModifiedDateTime=TIMESTAMPS,
)

BODIES: dict[str, st.SearchStrategy[Json]] = {
    "user": USERS,
    "group": GROUPS,
    "application": APPLICATIONS,
    "conditionalAccessPolicy": POLICIES,
    "namedLocation": NAMED_LOCATIONS,
    "authenticationMethodsPolicy": AUTH_METHODS_POLICIES,
}

_MEMBERS = st.lists(FEW_GUIDS, max_size=4).map(lambda ids: link_value(ids, many=True))
LINKS: dict[str, st.SearchStrategy[dict[str, LinkValue]]] = {
    "user": st.fixed_dictionaries({"manager": maybe(FEW_GUIDS)}),
    "group": st.fixed_dictionaries({"members": _MEMBERS, "owners": _MEMBERS}),
    "application": st.fixed_dictionaries({"owners": _MEMBERS}),
}

TYPE_NAMES = st.sampled_from(sorted(BODIES))


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
