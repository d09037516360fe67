"""A new tenant's singletons, taken from Microsoft's documented GET responses.

``organization`` follows organization-get.md (with the tenant's own id and domains),
``authorizationPolicy`` authorizationpolicy-get.md and ``authenticationMethodsPolicy``
authenticationmethodspolicy-get.md plus the method configurations documented on their
own pages. Beta-only properties of those examples are left out: v1.0 would not return
them. Also the first-party applications every tenant can add service principals for.
"""

from __future__ import annotations

from typing import Any

from graph_emulator.schema import Shapes

DOMAIN_INITIAL = "contoso.onmicrosoft.com"
DOMAIN_DEFAULT = "contoso.com"
DEFAULT_TENANT_ID = "84841066-274d-4ec0-a5c1-276be684bdd3"
#: Microsoft's own tenant: the owner of first-party applications.
MICROSOFT_TENANT_ID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
CREATED = "2021-08-02T10:30:06Z"

_ALL_USERS = {"targetType": "group", "id": "all_users", "isRegistrationRequired": False}


def organization(shapes: Shapes, tenant_id: str) -> dict[str, Any]:
    return shapes.materialize(
        "organization",
        {
            "id": tenant_id,
            "deletedDateTime": None,
            "businessPhones": ["425-555-0100"],
            "countryLetterCode": "NL",
            "createdDateTime": CREATED,
            "defaultUsageLocation": "NL",
            "displayName": "Contoso",
            "partnerTenantType": "resellerPartnerDelegatedAdmin",
            "preferredLanguage": "en",
            "technicalNotificationMails": ["admin@contoso.com"],
            "tenantType": "AAD",
            "mobileDeviceManagementAuthority": "unknown",
            "assignedPlans": [
                {
                    "assignedDateTime": "2021-08-02T10:36:57Z",
                    "capabilityStatus": "Enabled",
                    "service": "exchange",
                    "servicePlanId": "113feb6c-3fe4-4440-bddc-54d774bf0318",
                },
                {
                    "assignedDateTime": "2022-04-03T02:46:42Z",
                    "capabilityStatus": "Enabled",
                    "service": "MultiFactorService",
                    "servicePlanId": "8a256a2b-b617-496d-b51b-e76466e88db0",
                },
            ],
            "privacyProfile": {"contactEmail": "", "statementUrl": ""},
            "provisionedPlans": [
                {
                    "capabilityStatus": "Enabled",
                    "provisioningStatus": "Success",
                    "service": "exchange",
                }
            ],
            "verifiedDomains": [
                {
                    "capabilities": "Email, OfficeCommunicationsOnline",
                    "isDefault": False,
                    "isInitial": True,
                    "name": DOMAIN_INITIAL,
                    "type": "Managed",
                },
                {
                    "capabilities": "Email, OfficeCommunicationsOnline",
                    "isDefault": True,
                    "isInitial": False,
                    "name": DOMAIN_DEFAULT,
                    "type": "Managed",
                },
            ],
        },
    )


def authorization_policy(shapes: Shapes) -> dict[str, Any]:
    return shapes.materialize(
        "authorizationPolicy",
        {
            "id": "authorizationPolicy",
            "allowInvitesFrom": "everyone",
            "allowedToSignUpEmailBasedSubscriptions": True,
            "allowedToUseSSPR": True,
            "allowEmailVerifiedUsersToJoinOrganization": True,
            "allowUserConsentForRiskyApps": False,
            "blockMsolPowerShell": None,
            "displayName": "Authorization Policy",
            "description": "Used to manage authorization related settings across the company.",
            "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
            "defaultUserRolePermissions": {
                "allowedToCreateApps": True,
                "allowedToCreateSecurityGroups": True,
                "allowedToCreateTenants": True,
                "allowedToReadBitlockerKeysForOwnedDevice": True,
                "allowedToReadOtherUsers": True,
                "permissionGrantPoliciesAssigned": [
                    "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"
                ],
            },
        },
    )


def authentication_methods_policy(shapes: Shapes) -> dict[str, Any]:
    return shapes.materialize(
        "authenticationMethodsPolicy",
        {
            "id": "authenticationMethodsPolicy",
            "displayName": "Authentication Methods Policy",
            "description": (
                "The tenant-wide policy that controls which authentication methods are "
                "allowed in the tenant, authentication method registration requirements, and "
                "self-service password reset settings"
            ),
            "lastModifiedDateTime": "2022-01-26T10:47:26.6044384Z",
            "policyVersion": "1.4",
            "policyMigrationState": "migrationInProgress",
            "reconfirmationInDays": 0,
            "registrationEnforcement": {
                "authenticationMethodsRegistrationCampaign": {
                    "snoozeDurationInDays": 1,
                    "state": "default",
                    "excludeTargets": [],
                    "includeTargets": [
                        {
                            "id": "all_users",
                            "targetType": "group",
                            "targetedAuthenticationMethod": "microsoftAuthenticator",
                        }
                    ],
                }
            },
        },
    )


def method_configurations(shapes: Shapes) -> list[dict[str, Any]]:
    raw: list[dict[str, Any]] = [
        {
            "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
            "id": "Fido2",
            "state": "disabled",
            "isSelfServiceRegistrationAllowed": True,
            "isAttestationEnforced": True,
            "keyRestrictions": {"isEnforced": False, "enforcementType": "block", "aaGuids": []},
            "includeTargets": [dict(_ALL_USERS)],
            "excludeTargets": [],
        },
        {
            "@odata.type": (
                "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration"
            ),
            "id": "MicrosoftAuthenticator",
            "state": "disabled",
            "isSoftwareOathEnabled": False,
            "featureSettings": {
                name: {
                    "state": "default",
                    "includeTarget": {"targetType": "group", "id": "all_users"},
                    "excludeTarget": {
                        "targetType": "group",
                        "id": "00000000-0000-0000-0000-000000000000",
                    },
                }
                for name in (
                    "displayAppInformationRequiredState",
                    "displayLocationInformationRequiredState",
                )
            },
            "includeTargets": [{**_ALL_USERS, "authenticationMode": "any"}],
            "excludeTargets": [],
        },
        {
            "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
            "id": "Sms",
            "state": "enabled",
            "includeTargets": [{**_ALL_USERS, "isUsableForSignIn": True}],
            "excludeTargets": [],
        },
        {
            "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
            "id": "TemporaryAccessPass",
            "state": "disabled",
            "defaultLifetimeInMinutes": 60,
            "defaultLength": 8,
            "minimumLifetimeInMinutes": 60,
            "maximumLifetimeInMinutes": 480,
            "isUsableOnce": False,
            "includeTargets": [dict(_ALL_USERS)],
            "excludeTargets": [],
        },
        {
            "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration",
            "id": "Email",
            "state": "enabled",
            "allowExternalIdToUseEmailOtp": "default",
            "includeTargets": [],
            "excludeTargets": [],
        },
        {
            "@odata.type": "#microsoft.graph.x509CertificateAuthenticationMethodConfiguration",
            "id": "X509Certificate",
            "state": "disabled",
            "certificateUserBindings": [
                {
                    "x509CertificateField": "PrincipalName",
                    "userProperty": "onPremisesUserPrincipalName",
                    "priority": 1,
                },
                {
                    "x509CertificateField": "RFC822Name",
                    "userProperty": "userPrincipalName",
                    "priority": 2,
                },
            ],
            "crlValidationConfiguration": {"state": "disabled"},
            "authenticationModeConfiguration": {
                "x509CertificateAuthenticationDefaultMode": "x509CertificateSingleFactor",
                "rules": [],
            },
            "includeTargets": [dict(_ALL_USERS)],
            "excludeTargets": [],
        },
        {
            "@odata.type": "#microsoft.graph.softwareOathAuthenticationMethodConfiguration",
            "id": "SoftwareOath",
            "state": "disabled",
            "includeTargets": [],
            "excludeTargets": [],
        },
        {
            "@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration",
            "id": "Voice",
            "state": "disabled",
            "isOfficePhoneAllowed": False,
            "includeTargets": [],
            "excludeTargets": [],
        },
    ]
    return [materialize_configuration(shapes, config) for config in raw]


def materialize_configuration(shapes: Shapes, config: dict[str, Any]) -> dict[str, Any]:
    """Configurations carry their contained ``includeTargets`` inline; those are
    entities (a navigation property), so they are completed separately."""
    type_name = str(config["@odata.type"]).lstrip("#")
    out = shapes.materialize(type_name, config)
    target_type = shapes.navs(type_name)["includeTargets"].type.name
    out["includeTargets"] = [
        shapes.materialize(str(t.get("@odata.type", target_type)).lstrip("#"), t)
        for t in config.get("includeTargets", [])
    ]
    return out


#: First-party applications a tenant can create service principals for by appId
#: (``POST /servicePrincipals {"appId": …}``) without an application object of its own.
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
FIRST_PARTY: dict[str, dict[str, Any]] = {
    GRAPH_APP_ID: {
        "displayName": "Microsoft Graph",
        "appRoles": [
            (
                "df021288-bdef-4463-88db-98f22de89214",
                "User.Read.All",
                "Read all users' full profiles",
            ),
            (
                "741f803b-c850-494e-b5df-cde7c675a1ca",
                "User.ReadWrite.All",
                "Read and write all users' full profiles",
            ),
            ("5b567255-7703-4780-807c-7be8301ae99b", "Group.Read.All", "Read all groups"),
            (
                "62a82d76-70ea-41e2-9197-370581804d09",
                "Group.ReadWrite.All",
                "Read and write all groups",
            ),
            ("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All", "Read directory data"),
            (
                "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
                "Application.Read.All",
                "Read all applications",
            ),
            (
                "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
                "Application.ReadWrite.All",
                "Read and write all applications",
            ),
            (
                "246dd0d5-5bd0-4def-940b-0421030a5b68",
                "Policy.Read.All",
                "Read your organization's policies",
            ),
        ],
        "scopes": [
            ("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read", "Sign in and read user profile"),
            (
                "a154be20-db9c-4678-8ab7-66f6cc099a59",
                "User.Read.All",
                "Read all users' full profiles",
            ),
            ("5f8c59db-677d-491f-a6b8-5f174b11ec1d", "Group.Read.All", "Read all groups"),
            ("37f7f235-527c-4136-accd-4a02d197296e", "openid", "Sign users in"),
            ("14dad69e-099b-42c9-810b-d002981feec1", "profile", "View users' basic profile"),
            (
                "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
                "offline_access",
                "Maintain access to data you have given it access to",
            ),
        ],
    },
    "00000002-0000-0ff1-ce00-000000000000": {
        "displayName": "Office 365 Exchange Online",
        "appRoles": [
            (
                "dc50a0fb-09a3-484d-be87-e023b12c6440",
                "Exchange.ManageAsApp",
                "Manage Exchange As Application",
            ),
        ],
        "scopes": [
            (
                "185aa14c-f5f6-4145-8b89-6d1a0d4cbb31",
                "EWS.AccessAsUser.All",
                "Access mailboxes as the signed-in user via Exchange Web Services",
            ),
        ],
    },
    "00000002-0000-0000-c000-000000000000": {
        "displayName": "Windows Azure Active Directory",
        "appRoles": [
            ("5778995a-e1bf-45b8-affa-663a9f3f4d04", "Directory.Read.All", "Read directory data"),
        ],
        "scopes": [
            ("311a71cc-e848-46a1-bdf8-97ff7156d8e6", "User.Read", "Sign in and read user profile"),
        ],
    },
}


#: Descriptions Graph returns for some of Microsoft Graph's permissions, verbatim from
#: permissions-grant-via-msgraph.md (the others are written in the same style).
_DOCUMENTED: dict[str, dict[str, str]] = {
    "df021288-bdef-4463-88db-98f22de89214": {
        "description": "Allows the app to read user profiles without a signed in user.",
    },
    "a154be20-db9c-4678-8ab7-66f6cc099a59": {
        "adminConsentDescription": (
            "Allows the app to read the full set of profile properties, reports, and managers "
            "of other users in your organization, on behalf of the signed-in user."
        ),
        "userConsentDescription": (
            "Allows the app to read the full set of profile properties, reports, and managers "
            "of other users in your organization, on your behalf."
        ),
    },
    "5f8c59db-677d-491f-a6b8-5f174b11ec1d": {
        "adminConsentDescription": (
            "Allows the app to list groups, and to read their properties and all group "
            "memberships on behalf of the signed-in user.  Also allows the app to read calendar, "
            "conversations, files, and other group content for all groups the signed-in user "
            "can access. "
        ),
        "userConsentDescription": (
            "Allows the app to list groups, and to read their properties and all group "
            "memberships on your behalf.  Also allows the app to read calendar, conversations, "
            "files, and other group content for all groups you can access.  "
        ),
    },
}


def first_party_roles(app_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(appRoles, oauth2PermissionScopes) of a first-party application."""
    app = FIRST_PARTY[app_id]
    roles = [
        {
            "allowedMemberTypes": ["Application"],
            "description": (
                f"Allows the app to {title[0].lower()}{title[1:]} without a signed-in user."
            ),
            "displayName": title,
            "id": role_id,
            "isEnabled": True,
            "origin": "Application",
            "value": value,
        }
        for role_id, value, title in app["appRoles"]
    ]
    for role in roles:
        role.update(_DOCUMENTED.get(role["id"], {}))
    scopes = [
        {
            "adminConsentDescription": f"Allows the app to {title[0].lower()}{title[1:]}.",
            "adminConsentDisplayName": title,
            "id": scope_id,
            "isEnabled": True,
            "type": "Admin" if value.endswith(".All") else "User",
            "userConsentDescription": f"Allows the app to {title[0].lower()}{title[1:]}.",
            "userConsentDisplayName": title,
            "value": value,
        }
        for scope_id, value, title in app["scopes"]
    ]
    for scope in scopes:
        scope.update(_DOCUMENTED.get(scope["id"], {}))
    return roles, scopes
