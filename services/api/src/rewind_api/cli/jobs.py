"""``rewind jobs``: list, show, watch and cancel jobs."""

from __future__ import annotations

from typing import Annotated

import typer

from rewind_api.cli.context import (
    EXIT_ERROR,
    CursorOption,
    JsonOption,
    LimitOption,
    call,
    context_of,
    stdout,
)
from rewind_api.cli.follow import exit_code_for, follow_job
from rewind_api.cli.render import job_detail, jobs_table, print_json

app = typer.Typer(help="List, show, watch and cancel jobs.", no_args_is_help=True)


@app.command("list")
def list_jobs(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Option(help="snapshot, differenceReport, recovery or verify.")
    ] = None,
    status: Annotated[str | None, typer.Option(help='e.g. "In progress", Failed.')] = None,
    limit: LimitOption = 20,
    cursor: CursorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Jobs of the tenant, newest first."""
    cli = context_of(ctx)
    page = call(
        lambda: cli.client().get(
            cli.tenant_path("/jobs"), kind=kind, status=status, limit=limit, cursor=cursor
        )
    )
    if as_json:
        print_json(page)
        return
    if not page["items"]:
        stdout().print("no job")
        return
    jobs_table(page["items"])
    if page.get("next"):
        stdout().print(f"more: --cursor {page['next']}", highlight=False)


@app.command("show")
def show(ctx: typer.Context, job_id: str, as_json: JsonOption = False) -> None:
    """One job: status, progress, warnings, error."""
    cli = context_of(ctx)
    job = call(lambda: cli.client().get(cli.tenant_path(f"/jobs/{job_id}")))
    if as_json:
        print_json(job)
    else:
        job_detail(job)


@app.command("watch")
def watch(ctx: typer.Context, job_id: str, as_json: JsonOption = False) -> None:
    """Follow a job until it ends; exits 3 if it failed, 4 if it was canceled."""
    cli = context_of(ctx)
    final = call(lambda: follow_job(cli.client(), cli.tenant_id(), job_id))
    if as_json:
        print_json(final)
    else:
        job_detail(final)
    raise typer.Exit(exit_code_for(final))


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    job_id: str,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the job until it ends.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Ask a job to stop; it ends Canceled when its worker next checks (within seconds).

    With --wait, exits 0 once the job is Canceled and 1 if it ended otherwise first."""
    cli = context_of(ctx)
    job = call(lambda: cli.client().post(cli.tenant_path(f"/jobs/{job_id}/cancel")))
    if wait:
        job = call(lambda: follow_job(cli.client(), cli.tenant_id(), job_id))
    if as_json:
        print_json(job)
    elif wait:
        stdout().print(f"job {job['id']} ended {job['status']}", highlight=False)
    else:
        stdout().print(f"cancel requested: job {job['id']} is {job['status']}", highlight=False)
    if wait and job["status"] != "Canceled":
        raise typer.Exit(EXIT_ERROR)
