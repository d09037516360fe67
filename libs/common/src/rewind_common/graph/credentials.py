"""Authentication to Graph for one tenant connection, chosen by settings.

App-only credentials come from azure-identity (async): client secret, certificate,
workload identity (a federated token file, as on Kubernetes) or managed identity. They
cache tokens and fetch new ones before expiry, so a job running for hours keeps working.
A static bearer token, or none, is for the emulator. Whatever the credential, kiota asks
it for a token for every request, so a cached token is never sent past the credential's
own judgement of its expiry.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import (
    CertificateCredential,
    ClientSecretCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    AnonymousAuthenticationProvider,
    AuthenticationProvider,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)

from rewind_common.errors import ConfigurationError
from rewind_common.settings import CredentialKind, TenantConnection


class StaticTokenProvider(AccessTokenProvider):
    """Sends a fixed bearer token, only to the tenant's own Graph host."""

    def __init__(self, token: str, host: str) -> None:
        self._token = token
        self._validator = AllowedHostsValidator([host])

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] | None = None
    ) -> str:
        return self._token if self._validator.is_url_host_valid(uri) else ""

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._validator


def _azure_credential(tenant: TenantConnection) -> Any:
    authority = {"authority": tenant.authority_host} if tenant.authority_host else {}
    if tenant.credential is CredentialKind.CLIENT_SECRET:
        if not tenant.client_id or tenant.client_secret is None:
            raise ConfigurationError("a client secret credential needs clientId and clientSecret")
        return ClientSecretCredential(
            tenant.tenant_id,
            tenant.client_id,
            tenant.client_secret.get_secret_value(),
            **authority,
        )
    if tenant.credential is CredentialKind.CERTIFICATE:
        if not tenant.client_id or tenant.certificate_path is None:
            raise ConfigurationError("a certificate credential needs clientId and certificatePath")
        password = tenant.certificate_password
        return CertificateCredential(
            tenant.tenant_id,
            tenant.client_id,
            certificate_path=str(tenant.certificate_path),
            password=password.get_secret_value() if password else None,
            **authority,
        )
    if tenant.credential is CredentialKind.WORKLOAD_IDENTITY:
        options: dict[str, Any] = {"tenant_id": tenant.tenant_id, **authority}
        if tenant.client_id:
            options["client_id"] = tenant.client_id
        if tenant.federated_token_file:
            options["token_file_path"] = str(tenant.federated_token_file)
        return WorkloadIdentityCredential(**options)
    if tenant.credential is CredentialKind.MANAGED_IDENTITY:
        return ManagedIdentityCredential(client_id=tenant.client_id)
    raise ConfigurationError(f"no azure-identity credential for {tenant.credential.value!r}")


def authentication_provider(
    tenant: TenantConnection, credential: AsyncTokenCredential | None = None
) -> tuple[AuthenticationProvider, Any]:
    """The kiota authentication provider for a tenant, and the credential to close later
    (None when there is nothing to close).

    ``credential``, when given, stands in for the one the tenant's settings name (tests
    bring their own token issuer); whoever passes it closes it."""
    host = urlsplit(tenant.graph_base_url).hostname or ""
    if credential is not None:
        return _azure_provider(tenant, credential, host), None
    if tenant.credential is CredentialKind.NONE:
        return AnonymousAuthenticationProvider(), None
    if tenant.credential is CredentialKind.STATIC_TOKEN:
        if tenant.static_token is None:
            raise ConfigurationError("a static token credential needs staticToken")
        provider = StaticTokenProvider(tenant.static_token.get_secret_value(), host)
        return BaseBearerTokenAuthenticationProvider(provider), None
    credential = _azure_credential(tenant)
    return _azure_provider(tenant, credential, host), credential


def _azure_provider(
    tenant: TenantConnection, credential: AsyncTokenCredential, host: str
) -> AuthenticationProvider:
    return AzureIdentityAuthenticationProvider(
        credential, scopes=[tenant.graph_scope], allowed_hosts=[host]
    )
