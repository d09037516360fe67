"""What every command shares: where the API is, the token, the tenant, exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from rewind_api.cli.client import ApiClient, ApiError
from rewind_common.settings import Settings

T = TypeVar("T")

#: Exit codes: 2 is a usage error (typer's own).
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_JOB_FAILED = 3
EXIT_JOB_CANCELED = 4

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_TOKEN_FILE = Path("var") / "admin-token"

JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
LimitOption = Annotated[int, typer.Option(min=1, max=500, help="How many to list.")]
CursorOption = Annotated[str | None, typer.Option(help="Continue a listing (its `next` value).")]

#: Where a snapshot id is asked for, this names the tenant's newest snapshot.
LATEST = "latest"
SnapshotArgument = Annotated[
    str,
    typer.Argument(
        metavar="SNAPSHOT", help="A snapshot id, or `latest` for the tenant's newest snapshot."
    ),
]


def stdout() -> Console:
    # Wide when piped, so ids are never wrapped or cut in logs and files.
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200)


def stderr() -> Console:
    return Console(file=sys.stderr, width=None if sys.stderr.isatty() else 200)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    stderr().print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        fail(f"invalid REWIND_* settings: {exc}")


def default_api_url() -> str:
    try:
        return Settings().api_url
    except ValidationError:
        return DEFAULT_API_URL


def resolve_token(explicit: str | None) -> str | None:
    """``--token``/``REWIND_TOKEN``, else the file ``REWIND_TOKEN_FILE`` names, else
    ``var/admin-token`` under the current directory (what ``make up`` writes)."""
    if explicit:
        return explicit.strip()
    named = os.environ.get("REWIND_TOKEN_FILE")
    path = Path(named) if named else DEFAULT_TOKEN_FILE
    if named or path.is_file():
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            fail(f"cannot read the token file {path}: {exc}")
    return None


@dataclass
class CliContext:
    api_url: str | None
    token: str | None
    tenant: str | None
    _client: ApiClient | None = field(default=None, repr=False)
    _tenant_id: str | None = field(default=None, repr=False)

    def client(self) -> ApiClient:
        if self._client is None:
            self._client = ApiClient(self.api_url or default_api_url(), resolve_token(self.token))
        return self._client

    def tenant_id(self) -> str:
        """``--tenant``/``REWIND_TENANT``, else the only tenant the API has."""
        if self.tenant:
            return self.tenant
        if self._tenant_id is None:
            tenants = call(lambda: self.client().get("/v1/tenants"))["items"]
            if not tenants:
                fail("the API has no tenant configured")
            if len(tenants) > 1:
                ids = ", ".join(t["tenantId"] for t in tenants)
                fail(f"several tenants are configured ({ids}); choose one with --tenant")
            self._tenant_id = str(tenants[0]["tenantId"])
        return self._tenant_id

    def tenant_path(self, suffix: str = "") -> str:
        return f"/v1/tenants/{self.tenant_id()}{suffix}"

    def snapshot_id(self, reference: str) -> str:
        """``reference`` itself, or for ``latest`` the id of the tenant's newest snapshot,
        named on standard error so the choice is on record."""
        if reference != LATEST:
            return reference
        page = call(lambda: self.client().get(self.tenant_path("/snapshots"), limit=1))
        if not page["items"]:
            fail("the tenant has no snapshot yet")
        newest = page["items"][0]
        created = str(newest.get("createdAt", "")).replace("T", " ")[:19]
        stderr().print(f"latest snapshot: {newest['id']} (created {created})", highlight=False)
        return str(newest["id"])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def call(action: Callable[[], T]) -> T:
    """Run an API call; an API error ends the command with its message."""
    try:
        return action()
    except ApiError as exc:
        hint = ""
        if exc.status == 401:
            hint = " (pass --token, or set REWIND_TOKEN or REWIND_TOKEN_FILE)"
        fail(f"{exc.code}: {exc.message}{hint}")


def context_of(ctx: typer.Context) -> CliContext:
    value = ctx.obj
    assert isinstance(value, CliContext)
    return value
