"""``rewind diff``: create, list and show difference reports."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from rewind_api.cli.client import ApiClient
from rewind_api.cli.context import (
    CursorOption,
    JsonOption,
    LimitOption,
    call,
    context_of,
    stderr,
    stdout,
)
from rewind_api.cli.diff_render import changes_table, report_detail, reports_table
from rewind_api.cli.follow import exit_code_for, follow_job
from rewind_api.cli.render import print_json
from rewind_common.domain.changes import ChangeKind
from rewind_common.registry import type_names

app = typer.Typer(help="Create, list and show difference reports.", no_args_is_help=True)

#: Changes fetched per request when showing a report.
PAGE = 500

TypeName = StrEnum("TypeName", {name: name for name in type_names()})  # type: ignore[misc]
Kind = StrEnum("Kind", {kind.value: kind.value for kind in ChangeKind})  # type: ignore[misc]


def parse_objects(values: list[str]) -> list[dict[str, Any]]:
    """``TYPE:ID`` options as the scope's ``objects``, ids grouped by type."""
    grouped: dict[str, list[str]] = {}
    for value in values:
        type_name, sep, object_id = value.partition(":")
        if not sep or not type_name or not object_id:
            raise typer.BadParameter(f"{value!r} is not TYPE:ID (e.g. user:87d349ed-…)")
        grouped.setdefault(type_name, []).append(object_id)
    return [{"type": name, "ids": ids} for name, ids in grouped.items()]


def build_scope(types: list[str], objects: list[str]) -> dict[str, Any] | None:
    scope: dict[str, Any] = {}
    if types:
        scope["types"] = types
    if objects:
        scope["objects"] = parse_objects(objects)
    return scope or None


def all_changes(
    client: ApiClient, path: str, types: list[str] | None, kinds: list[str] | None
) -> list[dict[str, Any]]:
    """Every change of a report (the filters applied by the API), page after page."""
    changes: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(path, type=types or None, change=kinds or None, limit=PAGE, cursor=cursor)
        changes.extend(page["items"])
        cursor = page.get("next")
        if not cursor:
            return changes


def _show(
    client: ApiClient,
    base: str,
    report: dict[str, Any],
    types: list[str] | None,
    kinds: list[str] | None,
    as_json: bool,
) -> None:
    changes = call(lambda: all_changes(client, f"{base}/changes", types, kinds))
    if as_json:
        print_json({"report": report, "changes": changes})
        return
    report_detail(report)
    if changes:
        stdout().print(changes_table(changes))
    elif report.get("complete"):
        stdout().print("no change: the compared states are the same")
    else:
        stdout().print("no change stored yet: the report is not complete")


@app.command("create")
def create(
    ctx: typer.Context,
    snapshot: Annotated[
        str, typer.Option(help="The snapshot (backup) to compare; `latest`: the newest.")
    ],
    compare_to: Annotated[
        str | None,
        typer.Option(help="Another snapshot (or `latest`); default: the live tenant."),
    ] = None,
    type_: Annotated[
        list[TypeName] | None, typer.Option("--type", help="Compare only this type (repeatable).")
    ] = None,
    object_ids: Annotated[
        list[str] | None,
        typer.Option("--id", help="Compare only this object, as TYPE:ID (repeatable)."),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the job, then show the report.")
    ] = False,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Retrying with the same key returns the same report.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Start a difference report: what changed since a backup."""
    cli = context_of(ctx)
    snapshot = cli.snapshot_id(snapshot)
    body: dict[str, Any] = {"snapshotId": snapshot}
    if compare_to:
        body["compareTo"] = cli.snapshot_id(compare_to)
    scope = build_scope([t.value for t in type_ or []], object_ids or [])
    if scope is not None:
        body["scope"] = scope
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    base = cli.tenant_path("/difference-reports")
    job = call(lambda: cli.client().post(base, body, headers=headers))
    if not wait:
        if as_json:
            print_json(job)
        else:
            stdout().print(f"difference report {job['id']} {job['status']}", highlight=False)
        return
    stderr().print(f"difference report {job['id']} (snapshot {snapshot})", highlight=False)
    final = call(lambda: follow_job(cli.client(), cli.tenant_id(), job["id"]))
    report = call(lambda: cli.client().get(f"{base}/{job['id']}"))
    _show(cli.client(), f"{base}/{job['id']}", report, None, None, as_json)
    raise typer.Exit(exit_code_for(final))


@app.command("show")
def show(
    ctx: typer.Context,
    report_id: str,
    type_: Annotated[
        list[TypeName] | None, typer.Option("--type", help="Only this type (repeatable).")
    ] = None,
    change: Annotated[
        list[Kind] | None, typer.Option("--change", help="Only this change kind (repeatable).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A report: its summary and its changes, backup → current."""
    cli = context_of(ctx)
    base = cli.tenant_path(f"/difference-reports/{report_id}")
    report = call(lambda: cli.client().get(base))
    types = [t.value for t in type_ or []]
    kinds = [k.value for k in change or []]
    _show(cli.client(), base, report, types, kinds, as_json)


@app.command("list")
def list_reports(
    ctx: typer.Context,
    limit: LimitOption = 20,
    cursor: CursorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Difference reports of the tenant, newest first."""
    cli = context_of(ctx)
    path = cli.tenant_path("/difference-reports")
    page = call(lambda: cli.client().get(path, limit=limit, cursor=cursor))
    if as_json:
        print_json(page)
        return
    if not page["items"]:
        stdout().print("no difference report yet")
        return
    reports_table(page["items"])
    if page.get("next"):
        stdout().print(f"more: --cursor {page['next']}", highlight=False)
