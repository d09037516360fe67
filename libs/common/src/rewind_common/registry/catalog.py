"""The declarative description of every object type Rewind backs up.

Sources for each list are Microsoft Graph's v1.0 metadata (names and types) and the
Graph reference pages (read-only and write rules); ``tests/unit/test_registry_metadata.py``
checks every property named here against the metadata.
"""

from __future__ import annotations

from rewind_common.registry.model import (
    ChildCollection,
    Contains,
    IdFormat,
    Link,
    Listing,
    ObjectType,
    Reference,
    SoftDelete,
    UnorderedCollection,
)

# fmt: off
# Property lists are kept compact: one glance shows what each type treats specially.

DIRECTORY_OBJECT_READ_ONLY = frozenset({"id", "deletedDateTime"})

USER = ObjectType(
    name="user",
    entity="user",
    path="/users",
    display_name="displayName",
    # GET /users returns a small default set; a backup asks for every property Graph
    # can return in a list (mailboxSettings, birthday, skills... are single-GET only).
    select=(
        "id", "accountEnabled", "ageGroup", "assignedLicenses", "businessPhones", "city",
        "companyName", "consentProvidedForMinor", "country", "createdDateTime", "creationType",
        "department", "displayName", "employeeHireDate", "employeeId", "employeeLeaveDateTime",
        "employeeOrgData", "employeeType", "externalUserState", "externalUserStateChangeDateTime",
        "faxNumber", "givenName", "identities", "imAddresses", "jobTitle",
        "lastPasswordChangeDateTime", "legalAgeGroupClassification", "mail", "mailNickname",
        "mobilePhone", "officeLocation", "onPremisesDistinguishedName", "onPremisesDomainName",
        "onPremisesExtensionAttributes", "onPremisesImmutableId", "onPremisesLastSyncDateTime",
        "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
        "onPremisesUserPrincipalName", "otherMails", "passwordPolicies", "postalCode",
        "preferredDataLocation", "preferredLanguage", "proxyAddresses", "securityIdentifier",
        "showInAddressList", "signInSessionsValidFromDateTime", "state", "streetAddress",
        "surname", "usageLocation", "userPrincipalName", "userType", "deletedDateTime",
        # license and provisioning state, kept as evidence, never written; not
        # licenseAssignmentStates, whose changes the users delta does not track
        "assignedPlans", "provisionedPlans", "onPremisesProvisioningErrors",
        "serviceProvisioningErrors",
    ),
    delta_path="/users/delta",
    soft_delete=SoftDelete.DIRECTORY,
    read_only=DIRECTORY_OBJECT_READ_ONLY
    | {
        "creationType", "externalUserState", "securityIdentifier", "proxyAddresses",
        "assignedLicenses", "assignedPlans", "provisionedPlans", "licenseAssignmentStates",
        "imAddresses", "isManagementRestricted", "legalAgeGroupClassification",
        "onPremisesDistinguishedName", "onPremisesDomainName", "onPremisesProvisioningErrors",
        "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
        "onPremisesUserPrincipalName", "isResourceAccount", "serviceProvisioningErrors",
    },
    required_on_create=frozenset(
        {"accountEnabled", "displayName", "mailNickname", "passwordProfile", "userPrincipalName"}
    ),
    volatile=frozenset(
        {
            "createdDateTime", "deletedDateTime", "signInActivity", "lastPasswordChangeDateTime",
            "signInSessionsValidFromDateTime", "externalUserStateChangeDateTime",
            "onPremisesLastSyncDateTime",
        }
    ),
    not_recoverable={
        "passwordProfile": "passwords are never readable from Graph; a re-created user gets a "
        "new password that must be changed at next sign-in",
    },
    synced_mastered=frozenset(
        {
            "accountEnabled", "businessPhones", "city", "companyName", "country", "department",
            "displayName", "employeeHireDate", "employeeId", "employeeType", "faxNumber",
            "givenName", "jobTitle", "mail", "mailNickname", "mobilePhone", "officeLocation",
            "onPremisesExtensionAttributes", "onPremisesImmutableId", "otherMails", "postalCode",
            "state", "streetAddress", "surname", "userPrincipalName", "usageLocation",
            "manager",  # a link, synchronised from the on-premises manager attribute
        }
    ),
    unordered=(
        UnorderedCollection("otherMails"),
        UnorderedCollection("proxyAddresses"),
        UnorderedCollection("imAddresses"),
        UnorderedCollection("identities"),
        UnorderedCollection("assignedLicenses", key="skuId"),
        UnorderedCollection("assignedPlans"),
        UnorderedCollection("provisionedPlans"),
        UnorderedCollection("onPremisesProvisioningErrors"),
        UnorderedCollection("serviceProvisioningErrors"),
    ),
    case_insensitive=frozenset({"userPrincipalName", "mail", "mailNickname", "otherMails"}),
    links=(Link("manager", "manager", targets=("user",), many=False),),
)

GROUP = ObjectType(
    name="group",
    entity="group",
    path="/groups",
    select=(
        "id", "classification", "createdDateTime", "description", "displayName",
        "expirationDateTime", "groupTypes", "isAssignableToRole", "mail", "mailEnabled",
        "mailNickname", "membershipRule", "membershipRuleProcessingState",
        "onPremisesDomainName", "onPremisesLastSyncDateTime", "onPremisesNetBiosName",
        "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
        "preferredDataLocation", "preferredLanguage", "proxyAddresses", "renewedDateTime",
        "resourceBehaviorOptions", "resourceProvisioningOptions", "securityEnabled",
        "securityIdentifier", "theme", "visibility", "deletedDateTime",
        # group-based licensing and provisioning state, kept as evidence, never written
        "assignedLicenses", "onPremisesProvisioningErrors", "serviceProvisioningErrors",
    ),
    delta_path="/groups/delta",
    # Microsoft 365 groups go to deleted items; security groups are deleted permanently.
    soft_delete=SoftDelete.DIRECTORY,
    soft_delete_when=Contains("groupTypes", "Unified"),
    read_only=DIRECTORY_OBJECT_READ_ONLY
    | {
        "mail", "proxyAddresses", "securityIdentifier", "onPremisesDomainName",
        "onPremisesNetBiosName", "onPremisesSamAccountName", "onPremisesSecurityIdentifier",
        "onPremisesSyncEnabled", "onPremisesProvisioningErrors", "isArchived",
        "assignedLicenses", "hasMembersWithLicenseErrors", "serviceProvisioningErrors",
    },
    create_only=frozenset(
        {"isAssignableToRole", "resourceBehaviorOptions", "resourceProvisioningOptions"}
    ),
    required_on_create=frozenset({"displayName", "mailEnabled", "mailNickname", "securityEnabled"}),
    volatile=frozenset(
        {
            "createdDateTime", "deletedDateTime", "renewedDateTime", "expirationDateTime",
            "onPremisesLastSyncDateTime",
        }
    ),
    # Membership of a synced group is written by synchronisation too (a link, not a property).
    synced_mastered=frozenset(
        {"displayName", "description", "mailNickname", "mailEnabled", "members"}
    ),
    unordered=(
        UnorderedCollection("groupTypes"),
        UnorderedCollection("proxyAddresses"),
        UnorderedCollection("resourceBehaviorOptions"),
        UnorderedCollection("resourceProvisioningOptions"),
        UnorderedCollection("assignedLicenses", key="skuId"),
        UnorderedCollection("onPremisesProvisioningErrors"),
        UnorderedCollection("serviceProvisioningErrors"),
    ),
    case_insensitive=frozenset({"mailNickname", "mail"}),
    links=(
        Link(
            "members",
            "members",
            targets=("user", "group", "servicePrincipal"),
        ),
        Link("owners", "owners", targets=("user", "servicePrincipal")),
    ),
    depends_on=("user",),
)

APPLICATION = ObjectType(
    name="application",
    entity="application",
    path="/applications",
    delta_path="/applications/delta",
    soft_delete=SoftDelete.DIRECTORY,
    read_only=DIRECTORY_OBJECT_READ_ONLY
    | {
        "appId", "applicationTemplateId", "createdByAppId", "publisherDomain", "certification",
        "disabledByMicrosoftStatus", "verifiedPublisher", "logo",
    },
    create_only=frozenset({"uniqueName"}),
    required_on_create=frozenset({"displayName"}),
    volatile=frozenset({"createdDateTime", "deletedDateTime"}),
    not_recoverable={
        "passwordCredentials": "client secrets are never readable from Graph; issue new ones "
        "with addPassword",
        "keyCredentials": "certificate key material is not returned in a backup; upload the "
        "certificates again",
    },
    unordered=(
        UnorderedCollection("identifierUris"),
        UnorderedCollection("tags"),
        UnorderedCollection("appRoles", key="id"),
        UnorderedCollection("api.oauth2PermissionScopes", key="id"),
        UnorderedCollection("api.knownClientApplications"),
        UnorderedCollection("api.preAuthorizedApplications", key="appId"),
        UnorderedCollection("requiredResourceAccess", key="resourceAppId"),
        UnorderedCollection("requiredResourceAccess[].resourceAccess", key="id"),
        UnorderedCollection("web.redirectUris"),
        UnorderedCollection("spa.redirectUris"),
        UnorderedCollection("publicClient.redirectUris"),
        UnorderedCollection("keyCredentials", key="keyId"),
        UnorderedCollection("passwordCredentials", key="keyId"),
    ),
    links=(Link("owners", "owners", targets=("user", "servicePrincipal")),),
    depends_on=("user",),
)

SERVICE_PRINCIPAL = ObjectType(
    name="servicePrincipal",
    entity="servicePrincipal",
    path="/servicePrincipals",
    delta_path="/servicePrincipals/delta",
    soft_delete=SoftDelete.DIRECTORY,
    read_only=DIRECTORY_OBJECT_READ_ONLY
    | {
        "appDisplayName", "appOwnerOrganizationId", "applicationTemplateId", "signInAudience",
        "servicePrincipalType", "disabledByMicrosoftStatus", "verifiedPublisher",
        "resourceSpecificApplicationPermissions", "info",
    },
    create_only=frozenset({"appId"}),
    required_on_create=frozenset({"appId"}),
    volatile=frozenset({"deletedDateTime"}),
    not_recoverable={
        "passwordCredentials": "client secrets are never readable from Graph",
        "keyCredentials": "certificate key material is not returned in a backup",
    },
    case_insensitive=frozenset({"notificationEmailAddresses"}),
    unordered=(
        UnorderedCollection("tags"),
        UnorderedCollection("alternativeNames"),
        UnorderedCollection("replyUrls"),
        UnorderedCollection("servicePrincipalNames"),
        UnorderedCollection("notificationEmailAddresses"),
        UnorderedCollection("appRoles", key="id"),
        UnorderedCollection("oauth2PermissionScopes", key="id"),
        UnorderedCollection("keyCredentials", key="keyId"),
        UnorderedCollection("passwordCredentials", key="keyId"),
    ),
    # A service principal of another tenant's (or Microsoft's) application has no
    # application object here.
    references=(Reference("appId", targets=("application",), by="appId", external=True),),
    links=(Link("owners", "owners", targets=("user", "servicePrincipal")),),
    depends_on=("application", "user"),
)

NAMED_LOCATION = ObjectType(
    name="namedLocation",
    entity="namedLocation",
    path="/identity/conditionalAccess/namedLocations",
    derived_entities=("ipNamedLocation", "countryNamedLocation"),
    soft_delete=SoftDelete.CONDITIONAL_ACCESS,
    read_only=frozenset({"id", "createdDateTime", "modifiedDateTime", "deletedDateTime"}),
    required_on_create=frozenset({"@odata.type", "displayName"}),
    volatile=frozenset({"createdDateTime", "modifiedDateTime", "deletedDateTime"}),
    unordered=(
        UnorderedCollection("ipRanges", key="cidrAddress"),
        UnorderedCollection("countriesAndRegions"),
    ),
)

_CA_USER_LITERALS = frozenset({"All", "None", "GuestsOrExternalUsers"})
# CA application lists hold appIds; Microsoft's own applications (Office 365, Graph...)
# exist in a tenant only as service principals, so those resolve the value first.
CONDITIONAL_ACCESS_POLICY = ObjectType(
    name="conditionalAccessPolicy",
    entity="conditionalAccessPolicy",
    path="/identity/conditionalAccess/policies",
    soft_delete=SoftDelete.CONDITIONAL_ACCESS,
    read_only=frozenset({"id", "createdDateTime", "modifiedDateTime", "deletedDateTime"}),
    create_only=frozenset({"templateId"}),
    required_on_create=frozenset({"displayName", "state", "conditions"}),
    volatile=frozenset({"createdDateTime", "modifiedDateTime", "deletedDateTime"}),
    unordered=tuple(
        UnorderedCollection(path)
        for path in (
            "conditions.users.includeUsers", "conditions.users.excludeUsers",
            "conditions.users.includeGroups", "conditions.users.excludeGroups",
            "conditions.users.includeRoles", "conditions.users.excludeRoles",
            "conditions.applications.includeApplications",
            "conditions.applications.excludeApplications",
            "conditions.applications.includeUserActions",
            "conditions.applications.includeAuthenticationContextClassReferences",
            "conditions.clientApplications.includeServicePrincipals",
            "conditions.clientApplications.excludeServicePrincipals",
            "conditions.locations.includeLocations", "conditions.locations.excludeLocations",
            "conditions.platforms.includePlatforms", "conditions.platforms.excludePlatforms",
            "conditions.clientAppTypes", "conditions.signInRiskLevels",
            "conditions.userRiskLevels", "conditions.servicePrincipalRiskLevels",
            "grantControls.builtInControls", "grantControls.customAuthenticationFactors",
            "grantControls.termsOfUse",
        )
    ),
    references=(
        Reference("conditions.users.includeUsers", ("user",), literals=_CA_USER_LITERALS),
        Reference("conditions.users.excludeUsers", ("user",), literals=_CA_USER_LITERALS),
        Reference("conditions.users.includeGroups", ("group",)),
        Reference("conditions.users.excludeGroups", ("group",)),
        Reference(
            "conditions.locations.includeLocations",
            ("namedLocation",),
            literals=frozenset({"All", "AllTrusted", "00000000-0000-0000-0000-000000000000"}),
        ),
        Reference(
            "conditions.locations.excludeLocations",
            ("namedLocation",),
            literals=frozenset({"All", "AllTrusted", "00000000-0000-0000-0000-000000000000"}),
        ),
        Reference(
            "conditions.clientApplications.includeServicePrincipals",
            ("servicePrincipal",),
            literals=frozenset({"ServicePrincipalsInMyTenant"}),
        ),
        Reference(
            "conditions.clientApplications.excludeServicePrincipals",
            ("servicePrincipal",),
            literals=frozenset({"ServicePrincipalsInMyTenant"}),
        ),
        Reference(
            "conditions.applications.includeApplications",
            ("servicePrincipal", "application"),
            by="appId",
            literals=frozenset({"All", "None", "Office365", "MicrosoftAdminPortals"}),
        ),
        Reference(
            "conditions.applications.excludeApplications",
            ("servicePrincipal", "application"),
            by="appId",
            literals=frozenset({"All", "None", "Office365", "MicrosoftAdminPortals"}),
        ),
    ),
    depends_on=("namedLocation", "user", "group", "application", "servicePrincipal"),
)

AUTHORIZATION_POLICY = ObjectType(
    name="authorizationPolicy",
    entity="authorizationPolicy",
    path="/policies/authorizationPolicy",
    listing=Listing.SINGLETON,
    id_format=IdFormat.TYPE_NAME,
    read_only=frozenset({"id", "deletedDateTime", "displayName", "description"}),
    volatile=frozenset({"deletedDateTime"}),
    unordered=(UnorderedCollection("defaultUserRolePermissions.permissionGrantPoliciesAssigned"),),
    creatable=False,
)

AUTHENTICATION_METHODS_POLICY = ObjectType(
    name="authenticationMethodsPolicy",
    entity="authenticationMethodsPolicy",
    path="/policies/authenticationMethodsPolicy",
    listing=Listing.SINGLETON,
    id_format=IdFormat.TYPE_NAME,
    read_only=frozenset(
        {"id", "displayName", "description", "lastModifiedDateTime", "policyVersion"}
    ),
    volatile=frozenset({"lastModifiedDateTime"}),
    unordered=(
        UnorderedCollection("authenticationMethodConfigurations", key="id"),
        UnorderedCollection("authenticationMethodConfigurations[].includeTargets", key="id"),
        UnorderedCollection("authenticationMethodConfigurations[].excludeTargets", key="id"),
        UnorderedCollection(
            "registrationEnforcement.authenticationMethodsRegistrationCampaign.includeTargets",
            key="id",
        ),
        UnorderedCollection(
            "registrationEnforcement.authenticationMethodsRegistrationCampaign.excludeTargets",
            key="id",
        ),
    ),
    references=(
        Reference(
            "authenticationMethodConfigurations[].includeTargets[].id",
            ("group",),
            literals=frozenset({"all_users"}),
        ),
        Reference(
            "authenticationMethodConfigurations[].excludeTargets[].id",
            ("group",),
            literals=frozenset({"all_users"}),
        ),
    ),
    children=(ChildCollection("authenticationMethodConfigurations"),),
    depends_on=("group",),
    creatable=False,
)

ORGANIZATION = ObjectType(
    name="organization",
    entity="organization",
    path="/organization",
    read_only=DIRECTORY_OBJECT_READ_ONLY,
    writable_only=frozenset(
        {
            "marketingNotificationEmails", "privacyProfile", "securityComplianceNotificationMails",
            "securityComplianceNotificationPhones", "technicalNotificationMails",
        }
    ),
    volatile=frozenset({"createdDateTime", "deletedDateTime", "onPremisesLastSyncDateTime"}),
    # Mail addresses, compared as the directory treats them (as a user's mail is).
    case_insensitive=frozenset(
        {
            "marketingNotificationEmails", "securityComplianceNotificationMails",
            "technicalNotificationMails",
        }
    ),
    unordered=(
        UnorderedCollection("businessPhones"),
        UnorderedCollection("marketingNotificationEmails"),
        UnorderedCollection("securityComplianceNotificationMails"),
        UnorderedCollection("securityComplianceNotificationPhones"),
        UnorderedCollection("technicalNotificationMails"),
        UnorderedCollection("verifiedDomains", key="name"),
        UnorderedCollection("assignedPlans"),
        UnorderedCollection("provisionedPlans"),
    ),
    creatable=False,
)

OAUTH2_PERMISSION_GRANT = ObjectType(
    name="oAuth2PermissionGrant",
    entity="oAuth2PermissionGrant",
    path="/oauth2PermissionGrants",
    display_name="scope",
    id_format=IdFormat.BASE64URL,
    delta_path="/oauth2PermissionGrants/delta",
    read_only=frozenset({"id"}),
    create_only=frozenset({"clientId", "consentType", "principalId", "resourceId"}),
    required_on_create=frozenset({"clientId", "consentType", "resourceId", "scope"}),
    word_sets=frozenset({"scope"}),
    references=(
        Reference("clientId", ("servicePrincipal",)),
        Reference("resourceId", ("servicePrincipal",)),
        Reference("principalId", ("user",)),
    ),
    depends_on=("servicePrincipal", "user"),
)

APP_ROLE_ASSIGNMENT = ObjectType(
    name="appRoleAssignment",
    entity="appRoleAssignment",
    path="/servicePrincipals/{parentId}/appRoleAssignedTo",
    listing=Listing.PER_PARENT,
    parent="servicePrincipal",
    id_owner_paths=(
        "/users/{ownerId}/appRoleAssignments",
        "/groups/{ownerId}/appRoleAssignments",
        "/servicePrincipals/{ownerId}/appRoleAssignments",
    ),
    display_name="principalDisplayName",
    id_format=IdFormat.BASE64URL,
    # Tracked only together with users (directoryobject-delta.md, v1.0): rounds carry
    # users too. Their first round would read every user again, so a whole read lists
    # the assignments under each service principal instead.
    delta_path="/directoryObjects/delta",
    delta_filter="isof('microsoft.graph.appRoleAssignment') or isof('microsoft.graph.user')",
    delta_first_round=False,
    read_only=frozenset(
        {
            "id", "deletedDateTime", "createdDateTime", "principalDisplayName", "principalType",
            "resourceDisplayName",
        }
    ),
    required_on_create=frozenset({"appRoleId", "principalId", "resourceId"}),
    volatile=frozenset({"createdDateTime", "deletedDateTime"}),
    references=(
        Reference("principalId", ("user", "group", "servicePrincipal")),
        Reference("resourceId", ("servicePrincipal",)),
    ),
    depends_on=("servicePrincipal", "user", "group"),
    immutable=True,
)

#: Every type, in the order a recovery writes them: what others reference comes first.
ALL_TYPES: tuple[ObjectType, ...] = (
    NAMED_LOCATION,
    USER,
    GROUP,
    APPLICATION,
    SERVICE_PRINCIPAL,
    OAUTH2_PERMISSION_GRANT,
    APP_ROLE_ASSIGNMENT,
    CONDITIONAL_ACCESS_POLICY,
    AUTHORIZATION_POLICY,
    AUTHENTICATION_METHODS_POLICY,
    ORGANIZATION,
)
# fmt: on
