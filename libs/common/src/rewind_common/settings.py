"""Typed settings, read from environment variables prefixed ``REWIND_``.

Tenants are configured connections: ``REWIND_TENANTS`` holds a JSON list of them, or
``REWIND_TENANTS_FILE`` names a JSON file with the same list. Secrets are ``SecretStr``:
they never appear in ``repr``, logs or API answers.
"""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic.alias_generators import to_camel
from pydantic_settings import BaseSettings, SettingsConfigDict

from rewind_common.errors import ConfigurationError

GRAPH_V1_BASE_URL = "https://graph.microsoft.com/v1.0"


def _tenant_guid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise ValueError(f"tenant id must be a GUID, got {value!r}") from exc


TenantId = Annotated[str, AfterValidator(_tenant_guid)]


class CredentialKind(StrEnum):
    """How Rewind authenticates to Microsoft Graph for one tenant."""

    CLIENT_SECRET = "clientSecret"  # noqa: S105 (a credential kind, not a secret)
    CERTIFICATE = "certificate"
    WORKLOAD_IDENTITY = "workloadIdentity"
    MANAGED_IDENTITY = "managedIdentity"
    STATIC_TOKEN = "staticToken"  # noqa: S105 (a credential kind, not a secret)
    NONE = "none"


class TenantConnection(BaseModel):
    """One Entra tenant Rewind backs up, and how to reach its Graph endpoint."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    tenant_id: TenantId
    display_name: str = ""
    graph_base_url: str = GRAPH_V1_BASE_URL
    credential: CredentialKind = CredentialKind.CLIENT_SECRET
    client_id: str | None = None
    client_secret: SecretStr | None = None
    certificate_path: Path | None = None
    certificate_password: SecretStr | None = None
    federated_token_file: Path | None = None
    authority_host: str | None = None
    static_token: SecretStr | None = None
    #: Accounts (object ids or user principal names) that every Conditional Access policy
    #: written by a recovery must keep excluding.
    break_glass_accounts: tuple[str, ...] = ()
    #: Overrides the global snapshot interval for this tenant; 0 disables scheduling.
    snapshot_interval_minutes: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _credential_complete(self) -> TenantConnection:
        needs: dict[CredentialKind, tuple[str, ...]] = {
            CredentialKind.CLIENT_SECRET: ("client_id", "client_secret"),
            CredentialKind.CERTIFICATE: ("client_id", "certificate_path"),
            CredentialKind.STATIC_TOKEN: ("static_token",),
        }
        missing = [name for name in needs.get(self.credential, ()) if getattr(self, name) is None]
        if missing:
            names = ", ".join(to_camel(name) for name in missing)
            raise ValueError(f"credential {self.credential.value!r} needs {names}")
        return self

    @property
    def graph_scope(self) -> str:
        """The OAuth scope for app-only tokens on this tenant's Graph host."""
        scheme, _, rest = self.graph_base_url.partition("://")
        host = rest.split("/", 1)[0]
        return f"{scheme}://{host}/.default"

    def public_view(self) -> dict[str, Any]:
        """What the API may show about this connection: no secret, no credential path."""
        return {
            "tenantId": self.tenant_id,
            "displayName": self.display_name,
            "graphBaseUrl": self.graph_base_url,
            "credential": self.credential.value,
            "clientId": self.client_id,
            "breakGlassAccounts": list(self.break_glass_accounts),
        }


class RetentionPolicy(BaseModel):
    """Keep every snapshot for ``keep_all_days``, then one per day until ``keep_daily_days``;
    keep difference reports for ``keep_reports_days``. Pre-recovery snapshots are kept
    with their recovery: they are the only way to undo it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    keep_all_days: int = Field(default=7, ge=0)
    keep_daily_days: int = Field(default=90, ge=0)
    keep_reports_days: int = Field(default=90, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REWIND_",
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
    )

    mongo_url: SecretStr = SecretStr("mongodb://127.0.0.1:27017")
    mongo_database: str = "rewind"
    #: The longest one MongoDB round trip may take before it fails (and the step is
    #: tried again): a server that stops answering one request must not hold a job
    #: forever.
    mongo_socket_timeout_seconds: float = Field(default=60.0, gt=0)
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")

    tenants: tuple[TenantConnection, ...] = ()
    tenants_file: Path | None = None

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    #: Public base URL of the API, used in ``Location`` headers and CLI defaults.
    api_url: str = "http://127.0.0.1:8000"
    #: How long the API trusts what it read from MongoDB before asking again: a token
    #: found valid, a published snapshot's record, the dates and legal holds snapshot
    #: expiry is computed from. A token revoked or a hold changed through another API
    #: process shows there within this time.
    api_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    #: Serve the OpenAPI document and its browsable form (``/docs``) to anyone: for a
    #: local stack or a trusted network. Otherwise the document needs a reader token
    #: and there is no ``/docs`` (a browser page cannot send the token).
    api_public_docs: bool = False

    snapshot_interval_minutes: int = Field(default=60, ge=0)
    retention: RetentionPolicy = RetentionPolicy()
    retention_interval_minutes: int = Field(default=60, ge=1)
    #: How often each tenant's newest snapshot is verified (its versions rehashed, its
    #: Merkle root and chain recomputed); 0 turns scheduled verification off.
    verify_interval_minutes: int = Field(default=1440, ge=0)
    #: After this many incremental snapshots in a row, the next one stores a full manifest.
    incremental_chain_max: int = Field(default=24, ge=1)
    #: Manifest chunks a snapshot worker process keeps in memory (MB): an incremental
    #: snapshot reads each chunk of a type once, and the process's next snapshot job finds
    #: those of the chain it builds on. About 25 MB hold the chunks of 100,000 users; 0
    #: keeps none.
    snapshot_chunk_cache_mb: int = Field(default=48, ge=0, le=4096)

    graph_max_concurrency: int = Field(default=8, ge=1)
    #: Shared budgets per tenant across every worker process (0 disables the budget).
    graph_read_units_per_10s: int = Field(default=8000, ge=0)
    graph_writes_per_150s: int = Field(default=3000, ge=0)
    graph_timeout_seconds: float = Field(default=60.0, gt=0)

    #: Redis redelivers a message not acknowledged within this time (after a killed worker).
    celery_visibility_timeout_seconds: int = Field(default=300, ge=5)
    #: A job step hands over to a fresh task after this long, well under the timeout above.
    job_step_seconds: float = Field(default=30.0, gt=0)
    #: A running step holds its job's lease for this long and renews it five times as
    #: often; a killed worker's job is taken over once its lease lapses.
    job_lease_seconds: float = Field(default=15.0, ge=1)

    job_rate_limit_per_minute: int = Field(default=60, ge=0)
    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    max_scope_ids: int = Field(default=10_000, ge=1)

    #: Workers and the recorder expose Prometheus metrics on this port (0: off); the API
    #: serves them on its own port at /metrics.
    metrics_port: int = Field(default=0, ge=0, le=65535)

    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|text)$")

    def snapshot_interval_minutes_of(self, tenant: TenantConnection) -> int:
        """How often ``tenant`` is snapshotted: its own interval, else the global one
        (0: not scheduled)."""
        if tenant.snapshot_interval_minutes is not None:
            return tenant.snapshot_interval_minutes
        return self.snapshot_interval_minutes

    @model_validator(mode="after")
    def _load_tenants_file(self) -> Settings:
        if self.tenants_file is None:
            return self
        try:
            raw = json.loads(self.tenants_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read tenants file {self.tenants_file}: {exc}") from exc
        extra = tuple(TenantConnection.model_validate(item) for item in raw)
        object.__setattr__(self, "tenants", self.tenants + extra)
        return self

    @model_validator(mode="after")
    def _unique_tenants(self) -> Settings:
        seen: set[str] = set()
        for tenant in self.tenants:
            if tenant.tenant_id in seen:
                raise ValueError(f"tenant {tenant.tenant_id} is configured twice")
            seen.add(tenant.tenant_id)
        return self

    def tenant(self, tenant_id: str) -> TenantConnection:
        for tenant in self.tenants:
            if tenant.tenant_id == tenant_id.lower():
                return tenant
        raise ConfigurationError(f"tenant {tenant_id} is not configured")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
