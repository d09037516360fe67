"""``POST /_emulator/generate``: a realistic tenant from a seed, the same seed giving the
same tenant (ids included).

Users work in departments with job titles and a manager chain; groups are security
groups (some nested) and Microsoft 365 groups with owners; applications have redirect
URIs, app roles, exposed scopes and Microsoft Graph permissions, with service principals
(plus third-party multi-tenant ones); app role assignments and delegated grants link
them; named locations and Conditional Access policies reference users, groups and
locations. Objects are built with the same code the API uses and loaded in bulk.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from graph_emulator import builders, errors
from graph_emulator.defaults import DOMAIN_DEFAULT, DOMAIN_INITIAL, GRAPH_APP_ID
from graph_emulator.generator_data import (
    APP_NOUNS,
    CA_NAMES,
    COUNTRIES,
    DEPARTMENTS,
    FIRST_NAMES,
    LAST_NAMES,
    OFFICES,
    VENDORS,
)
from graph_emulator.ids import grant_id, new_guid, precise_timestamp, timestamp
from graph_emulator.store import Body

if TYPE_CHECKING:
    from graph_emulator.emulator import Emulator

DEFAULTS: dict[str, int] = {
    "users": 50,
    "groups": 10,
    "membersPerGroup": 5,
    "applications": 5,
    "servicePrincipals": 6,
    "conditionalAccessPolicies": 3,
    "namedLocations": 2,
    "seed": 0,
}
DEMO: dict[str, int] = {
    "users": 60,
    "groups": 12,
    "membersPerGroup": 6,
    "applications": 6,
    "servicePrincipals": 8,
    "conditionalAccessPolicies": 4,
    "namedLocations": 3,
    "seed": 1,
}
_BASE = datetime(2025, 6, 1, tzinfo=UTC)


#: The first users are cloud-only emergency access ("break-glass") accounts on the
#: initial domain, as Microsoft recommends; every generated CA policy excludes them.
EMERGENCY_ACCOUNTS = 2


def _emergency_access(number: int) -> dict[str, Any]:
    nickname = f"breakglass{number}"
    return {
        "accountEnabled": True,
        "displayName": f"Emergency Access {number}",
        "givenName": "Emergency",
        "surname": f"Access {number}",
        "mailNickname": nickname,
        "userPrincipalName": f"{nickname}@{DOMAIN_INITIAL}",
        "jobTitle": "Emergency access account",
        "department": "IT",
        "employeeType": "Service",
    }


def _params(raw: Any) -> dict[str, int]:
    if not isinstance(raw, dict):
        raise errors.bad_request("The generate request must be a JSON object.", "BadRequest")
    unknown = set(raw) - set(DEFAULTS)
    if unknown:
        raise errors.bad_request(f"Unknown generate parameters: {sorted(unknown)}.", "BadRequest")
    out = dict(DEFAULTS)
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise errors.bad_request(f"'{key}' must be a non-negative integer.", "BadRequest")
        out[key] = value
    return out


def _when(rng: random.Random, days: int = 900) -> datetime:
    return _BASE - timedelta(seconds=rng.randrange(days * 86400))


def generate(emulator: Emulator, raw: Any) -> dict[str, int]:
    params = _params(raw)
    emulator.reset()
    emulator.throttle.reset()
    rng = random.Random(params["seed"])
    gen = _Generator(emulator, rng)
    users = gen.users(params["users"])
    groups = gen.groups(params["groups"], params["membersPerGroup"], users)
    apps = gen.applications(params["applications"], users)
    sps = gen.service_principals(params["servicePrincipals"], apps, users)
    gen.assignments(sps, users, groups)
    gen.grants(sps, users)
    locations = gen.named_locations(params["namedLocations"])
    gen.policies(params["conditionalAccessPolicies"], users, groups, locations)
    counts = {
        kind: len(emulator.tenant.collections[kind].items) for kind in emulator.tenant.collections
    }
    counts["memberships"] = gen.memberships
    counts["owners"] = gen.owners
    counts["managers"] = gen.managers
    counts["total"] = sum(len(c.items) for c in emulator.tenant.collections.values())
    return counts


class _Generator:
    def __init__(self, emulator: Emulator, rng: random.Random) -> None:
        self.emulator = emulator
        self.tenant = emulator.tenant
        self.shapes = emulator.shapes
        self.rng = rng
        self.memberships = 0
        self.owners = 0
        self.managers = 0

    def users(self, count: int) -> list[Body]:
        rng, shapes = self.rng, self.shapes
        bodies: list[Body] = []
        taken: dict[str, int] = {}
        by_department: dict[str, list[str]] = {}
        departments = list(DEPARTMENTS)
        for index in range(count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            nickname = f"{first}.{last}".lower()
            seen = taken.get(nickname, 0)
            taken[nickname] = seen + 1
            if seen:
                nickname = f"{nickname}{seen + 1}"
            upn = f"{nickname}@{DOMAIN_DEFAULT}"
            department = (
                departments[index % len(departments)]
                if index < len(departments)
                else rng.choice(departments)
            )
            city, country, office = rng.choice(OFFICES)
            values = {
                "accountEnabled": rng.random() > 0.03,
                "displayName": f"{first} {last}",
                "givenName": first,
                "surname": last,
                "mailNickname": nickname,
                "userPrincipalName": upn,
                "jobTitle": rng.choice(DEPARTMENTS[department]),
                "department": department,
                "companyName": "Contoso",
                "officeLocation": office,
                "city": city,
                "country": country,
                "usageLocation": country,
                "businessPhones": [f"+1 425 555 {rng.randrange(10000):04d}"],
                "mobilePhone": f"+1 206 555 {rng.randrange(10000):04d}",
                "preferredLanguage": "en-US",
                "employeeId": f"E{100000 + index}",
                "employeeType": "Employee",
                "employeeHireDate": timestamp(_when(rng, 3650)),
                "passwordPolicies": "None",
            }
            if index < EMERGENCY_ACCOUNTS:
                values.update(_emergency_access(index + 1))
            body = builders.user(
                shapes, values, object_id=new_guid(rng), created=timestamp(_when(rng))
            )
            bodies.append(body)
            by_department.setdefault(department, []).append(body["id"])
        self.tenant.bulk_load("user", bodies)
        for body in bodies:
            self.tenant.users_by_upn[body["userPrincipalName"].lower()] = body["id"]
        # A manager chain per department: the first person heads it, then each person
        # reports to someone hired before them among the department's first tenth.
        for members in by_department.values():
            for position, user_id in enumerate(members[1:], start=1):
                pool = max(1, min(position, len(members) // 10 or 1))
                manager = members[rng.randrange(pool)]
                self.tenant.set_manager(user_id, manager, log=False)
                self.managers += 1
        return bodies

    def groups(self, count: int, members_per_group: int, users: list[Body]) -> list[Body]:
        rng, shapes = self.rng, self.shapes
        bodies: list[Body] = []
        user_ids = [u["id"] for u in users]
        security: list[str] = []
        departments = list(DEPARTMENTS)
        for index in range(count):
            department = rng.choice(departments)
            unified = rng.random() < 0.3
            if unified:
                name = f"{department} Team {index + 1}"
                nickname = f"{department.lower().replace(' ', '')}team{index + 1}"
                values: dict[str, Any] = {
                    "displayName": name,
                    "description": f"Collaboration space for the {department} team",
                    "groupTypes": ["Unified"],
                    "mailEnabled": True,
                    "mailNickname": nickname,
                    "securityEnabled": False,
                    "visibility": rng.choice(("Private", "Public")),
                }
            else:
                purpose = rng.choice(("Users", "Approvers", "Admins", "Readers", "App Access"))
                name = f"SG-{department.replace(' ', '')}-{purpose.replace(' ', '')}-{index + 1}"
                values = {
                    "displayName": name,
                    "description": f"{purpose} in {department}",
                    "groupTypes": [],
                    "mailEnabled": False,
                    "mailNickname": name.lower(),
                    "securityEnabled": True,
                }
            body = builders.group(
                shapes, values, object_id=new_guid(rng), created=timestamp(_when(rng))
            )
            bodies.append(body)
        self.tenant.bulk_load("group", bodies)
        for body in bodies:
            group_id = body["id"]
            unified = "Unified" in body["groupTypes"]
            size = min(members_per_group, len(user_ids))
            for member in rng.sample(user_ids, size) if size else ():
                self.tenant.add_link("members", group_id, member, log=False)
                self.memberships += 1
            # Every fifth security group, and a few more, nests an earlier one.
            if not unified and security and (len(security) % 5 == 4 or rng.random() < 0.1):
                self.tenant.add_link("members", group_id, rng.choice(security), log=False)
                self.memberships += 1
            for owner in rng.sample(user_ids, min(2 if unified else 1, len(user_ids))):
                self.tenant.add_link("owners", group_id, owner, log=False)
                self.owners += 1
            if not unified:
                security.append(group_id)
        return bodies

    def applications(self, count: int, users: list[Body]) -> list[Body]:
        rng, shapes = self.rng, self.shapes
        bodies: list[Body] = []
        for index in range(count):
            noun = rng.choice(APP_NOUNS)
            slug = f"{noun.lower()}{index + 1}"
            app_id = new_guid(rng)
            is_api = rng.random() < 0.4
            roles = [
                {
                    "allowedMemberTypes": ["User"],
                    "description": f"{role} access to {noun}",
                    "displayName": f"{noun} {role}",
                    "id": new_guid(rng),
                    "isEnabled": True,
                    "origin": "Application",
                    "value": f"{noun}.{role}",
                }
                for role in rng.sample(("Reader", "Writer", "Admin"), rng.randrange(0, 3))
            ]
            values: dict[str, Any] = {
                "displayName": f"Contoso {noun} {'API' if is_api else 'App'} {index + 1}",
                "signInAudience": "AzureADMyOrg",
                "appRoles": roles,
                "tags": [rng.choice(("HR", "Finance", "Internal", "Production"))],
                "web": {
                    "redirectUris": [f"https://{slug}.contoso.com/signin-oidc"],
                    "homePageUrl": f"https://{slug}.contoso.com/",
                    "logoutUrl": f"https://{slug}.contoso.com/signout",
                },
                "requiredResourceAccess": [
                    {
                        "resourceAppId": GRAPH_APP_ID,
                        "resourceAccess": [
                            {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}
                        ],
                    }
                ],
                "info": {"supportUrl": f"https://{slug}.contoso.com/support"},
            }
            if is_api:
                values["identifierUris"] = [f"api://{app_id}"]
                values["api"] = {
                    "requestedAccessTokenVersion": 2,
                    "oauth2PermissionScopes": [
                        {
                            "adminConsentDescription": (
                                f"Allow the app to access {noun} on behalf of the signed-in user."
                            ),
                            "adminConsentDisplayName": f"Access {noun}",
                            "id": new_guid(rng),
                            "isEnabled": True,
                            "type": "User",
                            "userConsentDescription": (
                                f"Allow the app to access {noun} on your behalf."
                            ),
                            "userConsentDisplayName": f"Access {noun}",
                            "value": "user_impersonation",
                        }
                    ],
                }
            body = builders.application(
                shapes,
                values,
                object_id=new_guid(rng),
                app_id=app_id,
                created=precise_timestamp(_when(rng)),
            )
            bodies.append(body)
        self.tenant.bulk_load("application", bodies)
        user_ids = [u["id"] for u in users]
        if user_ids:
            for body in bodies:
                self.tenant.add_link("owners", body["id"], rng.choice(user_ids), log=False)
                self.owners += 1
        return bodies

    def service_principals(self, count: int, apps: list[Body], users: list[Body]) -> list[Body]:
        rng, shapes = self.rng, self.shapes
        tenant_id = self.tenant.tenant_id
        bodies: list[Body] = []
        if count:
            bodies.append(
                builders.service_principal(
                    shapes,
                    {"appId": GRAPH_APP_ID},
                    tenant_id=tenant_id,
                    app=None,
                    object_id=new_guid(rng),
                )
            )
        for app in apps[: max(0, count - 1)]:
            bodies.append(
                builders.service_principal(
                    shapes,
                    {"appId": app["appId"]},
                    tenant_id=tenant_id,
                    app=app,
                    object_id=new_guid(rng),
                )
            )
        for index in range(max(0, count - 1 - len(apps))):
            vendor = rng.choice(VENDORS)
            external = builders.application(
                shapes,
                {
                    "displayName": f"{vendor} {rng.choice(APP_NOUNS)} {index + 1}",
                    "signInAudience": "AzureADMultipleOrgs",
                    "web": {"redirectUris": [f"https://app.{vendor.lower()}.com/auth/{index + 1}"]},
                },
                object_id=new_guid(rng),
                app_id=new_guid(rng),
            )
            bodies.append(
                builders.service_principal(
                    shapes,
                    {
                        "appId": external["appId"],
                        "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
                    },
                    tenant_id=tenant_id,
                    app=external,
                    object_id=new_guid(rng),
                    owner_tenant=new_guid(rng),
                )
            )
        self.tenant.bulk_load("servicePrincipal", bodies)
        user_ids = [u["id"] for u in users]
        if user_ids:
            for body in bodies[1:]:
                if body["appOwnerOrganizationId"] == tenant_id and rng.random() < 0.5:
                    self.tenant.add_link("owners", body["id"], rng.choice(user_ids), log=False)
                    self.owners += 1
        return bodies

    def assignments(self, sps: list[Body], users: list[Body], groups: list[Body]) -> None:
        rng = self.rng
        bodies: list[Body] = []
        principals: list[tuple[str, Body]] = [("user", u) for u in users[:2000]] + [
            ("group", g) for g in groups[:500] if "Unified" not in g["groupTypes"]
        ]
        graph = sps[0] if sps and sps[0]["appId"] == GRAPH_APP_ID else None
        for sp in sps[1:]:
            roles = [r for r in sp.get("appRoles") or [] if "User" in r["allowedMemberTypes"]]
            if roles and principals:
                for kind, principal in rng.sample(
                    principals, min(len(principals), rng.randrange(1, 4))
                ):
                    role = rng.choice(roles)
                    bodies.append(
                        builders.assignment(
                            kind,
                            principal,
                            sp,
                            role["id"],
                            rng=rng,
                            created=precise_timestamp(_when(rng)),
                        )
                    )
            if (
                graph is not None
                and sp["appOwnerOrganizationId"] == self.tenant.tenant_id
                and rng.random() < 0.2
            ):
                role = rng.choice(graph["appRoles"])
                bodies.append(
                    builders.assignment(
                        "servicePrincipal",
                        sp,
                        graph,
                        role["id"],
                        rng=rng,
                        created=precise_timestamp(_when(rng)),
                    )
                )
        self.tenant.bulk_load("appRoleAssignment", bodies)
        for body in bodies:
            self.tenant.by_resource.setdefault(body["resourceId"], {})[body["id"]] = None
            self.tenant.by_principal.setdefault(body["principalId"], {})[body["id"]] = None

    def grants(self, sps: list[Body], users: list[Body]) -> None:
        rng = self.rng
        if not sps or sps[0]["appId"] != GRAPH_APP_ID:
            return
        graph = sps[0]
        bodies: dict[str, Body] = {}
        for sp in sps[1:]:
            if rng.random() < 0.3:
                body = {
                    "clientId": sp["id"],
                    "consentType": "AllPrincipals",
                    "id": grant_id(sp["id"], graph["id"], None),
                    "principalId": None,
                    "resourceId": graph["id"],
                    "scope": "User.Read openid profile offline_access",
                }
                bodies[body["id"]] = body
            elif users and rng.random() < 0.1:
                user = rng.choice(users)
                body = {
                    "clientId": sp["id"],
                    "consentType": "Principal",
                    "id": grant_id(sp["id"], graph["id"], user["id"]),
                    "principalId": user["id"],
                    "resourceId": graph["id"],
                    "scope": "User.Read",
                }
                bodies[body["id"]] = body
        self.tenant.bulk_load("oAuth2PermissionGrant", list(bodies.values()))

    def named_locations(self, count: int) -> list[Body]:
        rng, shapes = self.rng, self.shapes
        bodies: list[Body] = []
        for index in range(count):
            created = precise_timestamp(_when(rng))
            if index % 2 == 0:
                ranges = [
                    {
                        "@odata.type": "#microsoft.graph.iPv4CidrRange",
                        "cidrAddress": (
                            f"{rng.randrange(11, 223)}.{rng.randrange(256)}."
                            f"{rng.randrange(256)}.0/24"
                        ),
                    }
                    for _ in range(rng.randrange(1, 4))
                ]
                values: dict[str, Any] = {
                    "displayName": f"Office network {index // 2 + 1}",
                    "isTrusted": rng.random() < 0.7,
                    "ipRanges": ranges,
                }
                odata_type = "#microsoft.graph.ipNamedLocation"
            else:
                values = {
                    "displayName": f"Blocked countries {index // 2 + 1}",
                    "countriesAndRegions": sorted(rng.sample(COUNTRIES, rng.randrange(1, 5))),
                    "includeUnknownCountriesAndRegions": rng.random() < 0.5,
                }
                odata_type = "#microsoft.graph.countryNamedLocation"
            bodies.append(
                builders.named_location(
                    shapes, values, odata_type, object_id=new_guid(rng), created=created
                )
            )
        self.tenant.bulk_load("namedLocation", bodies)
        return bodies

    def policies(
        self, count: int, users: list[Body], groups: list[Body], locations: list[Body]
    ) -> None:
        rng, shapes = self.rng, self.shapes
        bodies: list[Body] = []
        security = [g["id"] for g in groups if "Unified" not in g["groupTypes"]] or [
            g["id"] for g in groups
        ]
        break_glass = [u["id"] for u in users[:2]]
        for index in range(count):
            users_condition: dict[str, Any] = {"excludeUsers": list(break_glass)}
            if security and rng.random() < 0.7:
                users_condition["includeGroups"] = rng.sample(
                    security, min(len(security), rng.randrange(1, 3))
                )
                if rng.random() < 0.5:
                    users_condition["excludeGroups"] = [rng.choice(security)]
            else:
                users_condition["includeUsers"] = ["All"]
            conditions: dict[str, Any] = {
                "users": users_condition,
                "applications": {
                    "includeApplications": [rng.choice(("All", "Office365", GRAPH_APP_ID))]
                },
                "clientAppTypes": ["all"],
            }
            by_country = False
            if locations and rng.random() < 0.6:
                location = rng.choice(locations)
                by_country = location["@odata.type"].endswith("countryNamedLocation")
                if by_country:
                    conditions["locations"] = {"includeLocations": [location["id"]]}
                else:
                    conditions["locations"] = {
                        "includeLocations": ["All"],
                        "excludeLocations": [location["id"]],
                    }
            block = by_country or rng.random() < 0.2
            values = {
                "displayName": f"{CA_NAMES[index % len(CA_NAMES)]} ({index + 1})",
                "state": rng.choice(("enabled", "enabledForReportingButNotEnforced", "disabled")),
                "conditions": conditions,
                "grantControls": {
                    "operator": "OR",
                    "builtInControls": ["block" if block else "mfa"],
                },
            }
            bodies.append(
                builders.ca_policy(
                    shapes, values, object_id=new_guid(rng), created=precise_timestamp(_when(rng))
                )
            )
        self.tenant.bulk_load("conditionalAccessPolicy", bodies)
