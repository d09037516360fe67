"""``rewind tokens``: API tokens. ``create`` writes to MongoDB directly (REWIND_* settings),
so it works before any token exists; ``list`` and ``revoke`` go through the API."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from rewind_api.cli.context import call, context_of, fail, load_settings, stderr, stdout
from rewind_api.cli.render import print_json
from rewind_common.errors import DependencyUnavailable
from rewind_common.settings import Settings
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.tokens import Role, TokenRecord, TokenRepository

app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)


async def create_token(settings: Settings, name: str, role: Role) -> tuple[str, TokenRecord]:
    mongo = Mongo.of(settings)
    try:
        tokens = TokenRepository(mongo)
        await tokens.ensure_indexes()
        return await tokens.create(name, role, created_by="rewind tokens create")
    finally:
        await mongo.close()


def _write_secret(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")


@app.command("create")
def create(
    role: Annotated[Role, typer.Option(help="reader, operator or admin.")],
    name: Annotated[str, typer.Option(help="Recorded as createdBy of the jobs it starts.")],
    output: Annotated[
        Path | None,
        typer.Option(help="Write the token to this file (mode 600) instead of printing it."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the token, for scripts.")
    ] = False,
) -> None:
    """Create a token; it is shown once (only its hash is stored). The token alone goes to
    standard output, so ``TOKEN=$(rewind tokens create ...)`` captures it."""
    settings = load_settings()
    try:
        token, record = asyncio.run(create_token(settings, name, role))
    except DependencyUnavailable as exc:
        fail(exc.message)
    if output is not None:
        _write_secret(output, token)
        if not quiet:
            stderr().print(f"{record.role.value} token {record.name!r} written to {output}")
        return
    if not quiet:
        stderr().print(f"{record.role.value} token {record.name!r} (id {record.id}); keep it safe:")
    typer.echo(token)


@app.command("list")
def list_tokens(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Tokens (admin): ids, names and roles, never secrets."""
    cli = context_of(ctx)
    page = call(lambda: cli.client().get("/v1/tokens", limit=500))
    if as_json:
        print_json(page)
        return
    for token in page["items"]:
        state = "revoked" if token.get("revokedAt") else "active"
        stdout().print(
            f"{token['id']}  {token['role']:<8}  {state:<7}  {token['name']}", highlight=False
        )


@app.command("revoke")
def revoke(ctx: typer.Context, token_id: str) -> None:
    """Revoke a token by id (admin)."""
    cli = context_of(ctx)
    token = call(lambda: cli.client().delete(f"/v1/tokens/{token_id}"))
    stdout().print(f"revoked {token['name']!r} ({token['id']})", highlight=False)
