"""What the emulator knows about each Graph resource it serves.

Sources: the v1.0 metadata for names and types; the Graph reference pages for default
property sets ("Returned by default" / "Returned only on $select"), read-only and
create-only properties, page sizes; and Graph's real answers quoted in the docs (the
create responses under ``tests/data/graph-doc-examples`` show the default group set).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SoftDelete(StrEnum):
    NONE = "none"
    DIRECTORY = "directory"  # /directory/deletedItems
    UNIFIED_ONLY = "unifiedOnly"  # groups: Microsoft 365 groups only
    CONDITIONAL_ACCESS = "conditionalAccess"  # /identity/conditionalAccess/deletedItems/...


@dataclass(frozen=True)
class Resource:
    #: Rewind's registry type name (also the ``/_emulator`` vocabulary).
    name: str
    #: Entity type in the metadata, unqualified.
    entity: str
    #: Path of the collection (or singleton) below ``/v1.0``, for ``@odata.context``.
    context: str
    #: Entra directory object: its errors use the ``Request_*`` dialect and unknown
    #: properties are Entra's, not OData's, to reject (the types are open in the metadata).
    directory: bool
    #: Properties a GET without ``$select`` returns; ``None`` means every property.
    defaults: frozenset[str] | None = None
    #: Never part of a body (not even with ``$select``), as the reference pages say.
    never_returned: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset()
    create_only: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    #: Properties Entra masters on-premises for synced objects.
    mastered: frozenset[str] = frozenset()
    max_top: int = 999
    default_top: int = 100
    delta: bool = False
    soft_delete: SoftDelete = SoftDelete.NONE
    #: Items carry ``@odata.type`` (abstract or polymorphic collections).
    polymorphic: bool = False


_DIRECTORY_READ_ONLY = frozenset({"id", "deletedDateTime"})

USER = Resource(
    name="user",
    entity="user",
    context="users",
    directory=True,
    defaults=frozenset(
        {
            "businessPhones", "displayName", "givenName", "id", "jobTitle", "mail",
            "mobilePhone", "officeLocation", "preferredLanguage", "surname",
            "userPrincipalName",
        }
    ),
    # Served by Exchange/SharePoint for a single user only, or never readable.
    never_returned=frozenset(
        {
            "aboutMe", "birthday", "hireDate", "interests", "mailboxSettings", "mySite",
            "pastProjects", "preferredName", "responsibilities", "schools", "skills",
            "deviceEnrollmentLimit", "print", "authorizationInfo",
        }
    ),
    read_only=_DIRECTORY_READ_ONLY
    | {
        "createdDateTime", "creationType", "externalUserState",
        "externalUserStateChangeDateTime", "securityIdentifier", "proxyAddresses",
        "assignedLicenses", "assignedPlans", "provisionedPlans", "licenseAssignmentStates",
        "signInActivity", "signInSessionsValidFromDateTime", "imAddresses",
        "isManagementRestricted", "lastPasswordChangeDateTime", "legalAgeGroupClassification",
        "onPremisesDistinguishedName", "onPremisesDomainName", "onPremisesLastSyncDateTime",
        "onPremisesProvisioningErrors", "onPremisesSamAccountName",
        "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "onPremisesUserPrincipalName",
        "isResourceAccount", "serviceProvisioningErrors", "identityParentId",
    },
    required=frozenset(
        {"accountEnabled", "displayName", "mailNickname", "passwordProfile", "userPrincipalName"}
    ),
    mastered=frozenset(
        {
            "accountEnabled", "businessPhones", "city", "companyName", "country", "department",
            "displayName", "employeeHireDate", "employeeId", "employeeType", "faxNumber",
            "givenName", "jobTitle", "mail", "mailNickname", "mobilePhone", "officeLocation",
            "onPremisesExtensionAttributes", "onPremisesImmutableId", "otherMails", "postalCode",
            "state", "streetAddress", "surname", "userPrincipalName", "usageLocation",
            "employeeOrgData", "employeeLeaveDateTime", "passwordProfile",
        }
    ),
    delta=True,
    soft_delete=SoftDelete.DIRECTORY,
)  # fmt: skip

GROUP = Resource(
    name="group",
    entity="group",
    context="groups",
    directory=True,
    # The set Graph returned in the documented create responses.
    defaults=frozenset(
        {
            "id", "deletedDateTime", "classification", "createdDateTime", "description",
            "displayName", "expirationDateTime", "groupTypes", "isAssignableToRole", "mail",
            "mailEnabled", "mailNickname", "membershipRule", "membershipRuleProcessingState",
            "onPremisesDomainName", "onPremisesLastSyncDateTime", "onPremisesNetBiosName",
            "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
            "preferredDataLocation", "preferredLanguage", "proxyAddresses", "renewedDateTime",
            "resourceBehaviorOptions", "resourceProvisioningOptions", "securityEnabled",
            "securityIdentifier", "theme", "visibility", "onPremisesProvisioningErrors",
        }
    ),
    # hasMembersWithLicenseErrors and isArchived are never returned; the rest are
    # Exchange properties of one group for a signed-in user, not app-only reads.
    never_returned=frozenset(
        {
            "hasMembersWithLicenseErrors", "isArchived", "allowExternalSenders",
            "autoSubscribeNewMembers", "hideFromAddressLists", "hideFromOutlookClients",
            "isSubscribedByMail", "unseenCount", "unseenConversationsCount",
            "unseenMessagesCount", "isFavorite", "welcomeMessageEnabled",
        }
    ),
    read_only=_DIRECTORY_READ_ONLY
    | {
        "createdDateTime", "mail", "proxyAddresses", "securityIdentifier", "renewedDateTime",
        "expirationDateTime", "onPremisesDomainName", "onPremisesLastSyncDateTime",
        "onPremisesNetBiosName", "onPremisesProvisioningErrors", "onPremisesSamAccountName",
        "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "isArchived",
        "assignedLicenses", "hasMembersWithLicenseErrors", "serviceProvisioningErrors",
        "licenseProcessingState", "isManagementRestricted", "organizationId",
    },
    create_only=frozenset(
        {
            "isAssignableToRole", "resourceBehaviorOptions", "resourceProvisioningOptions",
            "uniqueName",
        }
    ),
    required=frozenset({"displayName", "mailEnabled", "mailNickname", "securityEnabled"}),
    mastered=frozenset(
        {
            "displayName", "description", "mailNickname", "mailEnabled", "securityEnabled",
            "groupTypes",
        }
    ),
    delta=True,
    soft_delete=SoftDelete.UNIFIED_ONLY,
)  # fmt: skip

APPLICATION = Resource(
    name="application",
    entity="application",
    context="applications",
    directory=True,
    never_returned=frozenset({"logo", "authenticationBehaviors"}),
    read_only=_DIRECTORY_READ_ONLY
    | {
        "appId", "applicationTemplateId", "createdByAppId", "createdDateTime", "publisherDomain",
        "certification", "disabledByMicrosoftStatus", "verifiedPublisher", "logo",
    },
    create_only=frozenset({"uniqueName"}),
    required=frozenset({"displayName"}),
    delta=True,
    soft_delete=SoftDelete.DIRECTORY,
)  # fmt: skip

SERVICE_PRINCIPAL = Resource(
    name="servicePrincipal",
    entity="servicePrincipal",
    context="servicePrincipals",
    directory=True,
    never_returned=frozenset({"customSecurityAttributes"}),
    read_only=_DIRECTORY_READ_ONLY
    | {
        "appDisplayName", "appDescription", "appOwnerOrganizationId", "applicationTemplateId",
        "signInAudience", "servicePrincipalType", "disabledByMicrosoftStatus",
        "verifiedPublisher", "resourceSpecificApplicationPermissions", "createdByAppId",
    },
    create_only=frozenset({"appId"}),
    required=frozenset({"appId"}),
    delta=True,
    soft_delete=SoftDelete.DIRECTORY,
)  # fmt: skip

CONDITIONAL_ACCESS_POLICY = Resource(
    name="conditionalAccessPolicy",
    entity="conditionalAccessPolicy",
    context="identity/conditionalAccess/policies",
    directory=False,
    read_only=frozenset({"id", "createdDateTime", "modifiedDateTime", "deletedDateTime"}),
    required=frozenset({"displayName", "state", "conditions"}),
    soft_delete=SoftDelete.CONDITIONAL_ACCESS,
)

NAMED_LOCATION = Resource(
    name="namedLocation",
    entity="namedLocation",
    context="identity/conditionalAccess/namedLocations",
    directory=False,
    read_only=frozenset({"id", "createdDateTime", "modifiedDateTime", "deletedDateTime"}),
    required=frozenset({"displayName"}),
    soft_delete=SoftDelete.CONDITIONAL_ACCESS,
    polymorphic=True,
)

OAUTH2_PERMISSION_GRANT = Resource(
    name="oAuth2PermissionGrant",
    entity="oAuth2PermissionGrant",
    context="oauth2PermissionGrants",
    directory=True,
    read_only=frozenset({"id"}),
    create_only=frozenset({"clientId", "consentType", "principalId", "resourceId"}),
    required=frozenset({"clientId", "consentType", "resourceId"}),
    delta=True,
)

APP_ROLE_ASSIGNMENT = Resource(
    name="appRoleAssignment",
    entity="appRoleAssignment",
    context="servicePrincipals/appRoleAssignedTo",
    directory=True,
    # principalType is server-set too; the create handler accepts it when it is right.
    read_only=frozenset(
        {
            "id", "deletedDateTime", "createdDateTime", "principalDisplayName",
            "resourceDisplayName",
        }
    ),
    required=frozenset({"appRoleId", "principalId", "resourceId"}),
)  # fmt: skip

AUTHORIZATION_POLICY = Resource(
    name="authorizationPolicy",
    entity="authorizationPolicy",
    context="policies/authorizationPolicy",
    directory=False,
    read_only=frozenset({"id", "displayName", "description", "deletedDateTime"}),
)

AUTHENTICATION_METHODS_POLICY = Resource(
    name="authenticationMethodsPolicy",
    entity="authenticationMethodsPolicy",
    context="policies/authenticationMethodsPolicy",
    directory=False,
    read_only=frozenset(
        {"id", "displayName", "description", "lastModifiedDateTime", "policyVersion"}
    ),
)

AUTHENTICATION_METHOD_CONFIGURATION = Resource(
    name="authenticationMethodConfiguration",
    entity="authenticationMethodConfiguration",
    context="policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
    directory=False,
    read_only=frozenset({"id"}),
    polymorphic=True,
)

ORGANIZATION = Resource(
    name="organization",
    entity="organization",
    context="organization",
    directory=True,
    read_only=_DIRECTORY_READ_ONLY,
)

#: The only organization properties Graph lets a client change.
ORGANIZATION_WRITABLE = frozenset(
    {
        "marketingNotificationEmails", "privacyProfile", "securityComplianceNotificationMails",
        "securityComplianceNotificationPhones", "technicalNotificationMails",
    }
)  # fmt: skip

#: Registry type name → resource, in the order ``/_emulator/state`` lists them.
BY_NAME: dict[str, Resource] = {
    r.name: r
    for r in (
        USER, GROUP, APPLICATION, SERVICE_PRINCIPAL, CONDITIONAL_ACCESS_POLICY, NAMED_LOCATION,
        AUTHORIZATION_POLICY, AUTHENTICATION_METHODS_POLICY, ORGANIZATION,
        OAUTH2_PERMISSION_GRANT, APP_ROLE_ASSIGNMENT,
    )
}  # fmt: skip

#: Kinds that live in the directory object index (``/directoryObjects/{id}``).
DIRECTORY_KINDS = ("user", "group", "application", "servicePrincipal")
