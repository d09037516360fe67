"""The ``rewind`` command: one sub-command group per resource (difference reports and
recoveries add theirs with ``app.add_typer``)."""

from __future__ import annotations

from typing import Annotated

import typer

from rewind_api.cli import diff, jobs, recover, snapshot, tokens
from rewind_api.cli.context import CliContext

app = typer.Typer(
    name="rewind",
    help="Rewind: backups, difference reports and recovery for Microsoft Entra ID.\n\n"
    "Exit codes: 0 done, 1 error, 2 usage error, 3 job failed, 4 job canceled.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(snapshot.app, name="snapshot")
app.add_typer(jobs.app, name="jobs")
app.add_typer(tokens.app, name="tokens")
app.add_typer(diff.app, name="diff")
app.add_typer(recover.app, name="recover")


@app.callback()
def options(
    ctx: typer.Context,
    api_url: Annotated[
        str | None,
        typer.Option(envvar="REWIND_API_URL", help="Default: the api_url setting."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="REWIND_TOKEN",
            help="Default: the file REWIND_TOKEN_FILE names, else ./var/admin-token.",
            show_default=False,
        ),
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option(envvar="REWIND_TENANT", help="Default: the only configured tenant."),
    ] = None,
) -> None:
    cli = CliContext(api_url=api_url, token=token, tenant=tenant)
    ctx.obj = cli
    ctx.call_on_close(cli.close)
