"""``rewind recover``: start a recovery (or its dry run), follow it, show and list them.

``rewind recover --snapshot ID [--type T ...] [--id TYPE:ID ...] [--dry-run] [--wait]``
starts a recovery; ``--report ID`` starts one from a difference report instead.
``rewind recover show ID`` and ``rewind recover list`` read them back. With ``--wait``
a progress bar follows the job and a table of every action's outcome closes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer
from rich.table import Table

from rewind_api.cli.client import ApiClient
from rewind_api.cli.context import (
    CursorOption,
    JsonOption,
    LimitOption,
    call,
    context_of,
    fail,
    stderr,
    stdout,
)
from rewind_api.cli.diff import TypeName, build_scope
from rewind_api.cli.follow import exit_code_for, follow_job
from rewind_api.cli.render import print_json, progress_text, status_text

app = typer.Typer(
    help="Recover from a snapshot or a difference report; show and list recoveries.",
    invoke_without_command=True,
    no_args_is_help=False,
)

#: Actions fetched per request when showing a recovery.
PAGE = 500
_OUTCOME_STYLES = {"applied": "green", "failed": "red", "skipped": "yellow", "pending": "dim"}


def all_actions(client: ApiClient, path: str, outcome: str | None = None) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(path, outcome=outcome, limit=PAGE, cursor=cursor)
        actions.extend(page["items"])
        cursor = page.get("next")
        if not cursor:
            return actions


def _detail(action: Mapping[str, Any]) -> str:
    error = action.get("error")
    if error:
        return f"{error.get('code')}: {error.get('message')}"
    if action.get("newObjectId"):
        return f"new id {action['newObjectId']}"
    if action.get("link"):
        changes = action.get("linkChanges") or {}
        return f"{action['link']}: +{len(changes.get('add', []))} -{len(changes.get('remove', []))}"
    if action.get("properties"):
        return ", ".join(action["properties"][:6])
    return ""


def actions_table(actions: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold")
    for name in ("TYPE", "OBJECT", "ACTION", "OUTCOME", "DETAIL"):
        table.add_column(name, no_wrap=name not in ("OBJECT", "DETAIL"))
    for action in actions:
        outcome = str(action.get("outcome"))
        style = _OUTCOME_STYLES.get(outcome, "cyan")
        shown = action.get("displayName")
        label = f"{shown} ({action['objectId']})" if shown else str(action["objectId"])
        table.add_row(
            action["type"],
            label,
            action["action"],
            f"[{style}]{outcome}[/{style}]",
            _detail(action),
        )
    return table


def recovery_detail(recovery: Mapping[str, Any]) -> None:
    console = stdout()
    facts = Table(box=None, show_header=False)
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    outcomes = recovery.get("outcomes") or {}
    rows = [
        ("Recovery", recovery["id"]),
        ("Status", status_text(recovery["status"])),
        ("Progress", progress_text(recovery)),
        ("Snapshot", recovery.get("snapshotId") or "-"),
        ("Dry run", "yes" if recovery.get("dryRun") else "no"),
        ("Outcomes", ", ".join(f"{k} {v}" for k, v in outcomes.items() if v) or "-"),
        (
            "Writes planned",
            str(recovery.get("writes") if recovery.get("writes") is not None else "-"),
        ),
    ]
    if recovery.get("differenceReportId"):
        rows.insert(4, ("Difference report", recovery["differenceReportId"]))
    pre = recovery.get("preRecoverySnapshotId")
    if pre:
        rows.append(("Undo with", f"rewind recover --snapshot {pre}"))
    verification = recovery.get("verification")
    if verification:
        verdict = (
            "clean"
            if verification.get("clean")
            else (f"{verification.get('unexpected')} unexpected difference(s)")
        )
        rows.append(("Verification", f"{verification.get('checked')} objects checked: {verdict}"))
    error = recovery.get("error")
    if error:
        rows.append(("Error", f"{error['code']}: {error['message']}"))
    for name, value in rows:
        facts.add_row(name, value)
    console.print(facts)
    id_map = recovery.get("idMap") or {}
    if id_map:
        table = Table(box=None, header_style="bold", title="Re-created", title_justify="left")
        table.add_column("OLD ID", no_wrap=True)
        table.add_column("NEW ID", no_wrap=True)
        for old, new in id_map.items():
            table.add_row(old, new)
        console.print(table)
    warnings = recovery.get("warnings") or []
    if warnings:
        table = Table(box=None, header_style="bold", title="Warnings", title_justify="left")
        for name in ("TYPE", "OBJECT", "REASON"):
            table.add_column(name)
        for warning in warnings:
            table.add_row(
                warning.get("type") or "-", warning.get("objectId") or "-", warning["reason"]
            )
        console.print(table)


def _show(client: ApiClient, path: str, outcome: str | None, as_json: bool) -> None:
    recovery = call(lambda: client.get(path))
    actions = call(lambda: all_actions(client, f"{path}/actions", outcome))
    if as_json:
        print_json({"recovery": recovery, "actions": actions})
        return
    recovery_detail(recovery)
    if actions:
        stdout().print(actions_table(actions))
    elif recovery["status"] in ("Queued", "Loading data"):
        stdout().print("no plan yet: the recovery is still being planned")
    elif recovery["status"] in ("Failed", "Canceled"):
        stdout().print(f"no actions: the recovery ended {recovery['status']} before its plan")
    else:
        stdout().print("nothing to do: the tenant already matches the backup")


@app.callback()
def recover(
    ctx: typer.Context,
    snapshot: Annotated[
        str | None,
        typer.Option(
            help="The snapshot to go back to (`latest`: the newest; a pre-recovery snapshot "
            "undoes a recovery)."
        ),
    ] = None,
    report: Annotated[
        str | None,
        typer.Option(help="A difference report: recover the objects it lists."),
    ] = None,
    type_: Annotated[
        list[TypeName] | None, typer.Option("--type", help="Recover only this type (repeatable).")
    ] = None,
    object_ids: Annotated[
        list[str] | None,
        typer.Option("--id", help="Recover only this object, as TYPE:ID (repeatable)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compute and show the plan; write nothing.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the job, then show every action's outcome.")
    ] = False,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Retrying with the same key returns the same recovery.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recover from a snapshot or a difference report (``show`` and ``list`` read them)."""
    if ctx.invoked_subcommand is not None:
        return
    if (snapshot is None) == (report is None):
        fail("give exactly one of --snapshot and --report (or a command: show, list)", 2)
    cli = context_of(ctx)
    body: dict[str, Any] = (
        {"snapshotId": cli.snapshot_id(snapshot)} if snapshot else {"differenceReportId": report}
    )
    scope = build_scope([t.value for t in type_ or []], object_ids or [])
    if scope is not None:
        body["scope"] = scope
    if dry_run:
        body["dryRun"] = True
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    base = cli.tenant_path("/recoveries")
    job = call(lambda: cli.client().post(base, body, headers=headers))
    kind = "dry run" if dry_run else "recovery"
    if not wait:
        if as_json:
            print_json(job)
        else:
            stdout().print(f"{kind} {job['id']} {job['status']}", highlight=False)
        return
    stderr().print(f"{kind} {job['id']} (snapshot {job.get('snapshotId')})", highlight=False)
    final = call(lambda: follow_job(cli.client(), cli.tenant_id(), job["id"]))
    _show(cli.client(), f"{base}/{final['id']}", None, as_json)
    raise typer.Exit(exit_code_for(final))


@app.command("show")
def show(
    ctx: typer.Context,
    recovery_id: str,
    outcome: Annotated[
        str | None, typer.Option(help="Only actions with this outcome (applied, failed...).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """One recovery: status, outcomes, re-created ids, verification and its actions."""
    cli = context_of(ctx)
    _show(cli.client(), cli.tenant_path(f"/recoveries/{recovery_id}"), outcome, as_json)


@app.command("list")
def list_recoveries(
    ctx: typer.Context,
    limit: LimitOption = 20,
    cursor: CursorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recoveries of the tenant, newest first."""
    cli = context_of(ctx)
    page = call(
        lambda: cli.client().get(cli.tenant_path("/recoveries"), limit=limit, cursor=cursor)
    )
    if as_json:
        print_json(page)
        return
    if not page["items"]:
        stdout().print("no recovery yet")
        return
    table = Table(box=None, header_style="bold")
    for name in ("ID", "STATUS", "PROGRESS", "SNAPSHOT", "DRY RUN", "APPLIED", "FAILED", "CREATED"):
        table.add_column(name, no_wrap=True)
    for item in page["items"]:
        outcomes = item.get("outcomes") or {}
        table.add_row(
            item["id"],
            status_text(item["status"]),
            progress_text(item),
            item.get("snapshotId") or "-",
            "yes" if item.get("dryRun") else "",
            str(outcomes.get("applied", 0)),
            str(outcomes.get("failed", 0)),
            str(item.get("createdAt", ""))[:19].replace("T", " "),
        )
    stdout().print(table)
    if page.get("next"):
        stdout().print(f"more: --cursor {page['next']}", highlight=False)
