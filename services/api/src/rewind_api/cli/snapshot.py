"""``rewind snapshot``: start, list and show snapshots, verify them, hold them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from rewind_api.cli import browse
from rewind_api.cli.context import (
    CursorOption,
    JsonOption,
    LimitOption,
    SnapshotArgument,
    call,
    context_of,
    stderr,
    stdout,
)
from rewind_api.cli.follow import exit_code_for, follow_job
from rewind_api.cli.render import (
    human_bytes,
    print_json,
    snapshot_detail,
    snapshots_table,
    status_text,
)

app = typer.Typer(
    help="Start, list, show and verify snapshots, read what they hold; place and lift legal holds.",
    no_args_is_help=True,
)

WaitOption = Annotated[
    bool, typer.Option("--wait", help="Follow the job with a progress bar until it ends.")
]
IdempotencyOption = Annotated[
    str | None, typer.Option(help="Retrying with the same key returns the same job.")
]


class Mode(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


@app.command("create")
def create(
    ctx: typer.Context,
    mode: Annotated[
        Mode | None,
        typer.Option(help="Default: incremental when the tenant has an earlier snapshot."),
    ] = None,
    wait: WaitOption = False,
    idempotency_key: IdempotencyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Start a snapshot of the tenant now."""
    cli = context_of(ctx)
    body: dict[str, Any] = {"mode": mode.value} if mode else {}
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    path = cli.tenant_path("/snapshots")
    job = call(lambda: cli.client().post(path, body, headers=headers))
    if not wait:
        if as_json:
            print_json(job)
        else:
            stdout().print(
                f"snapshot job {job['id']} {job['status']} (snapshot {job['snapshotId']})",
                highlight=False,
            )
        return
    stderr().print(f"snapshot job {job['id']} (snapshot {job['snapshotId']})", highlight=False)
    final = call(lambda: follow_job(cli.client(), cli.tenant_id(), job["id"]))
    code = exit_code_for(final)
    snapshot = None
    if code == 0:
        snapshot = call(
            lambda: cli.client().get(cli.tenant_path(f"/snapshots/{final['snapshotId']}"))
        )
    if as_json:
        print_json({"job": final, "snapshot": snapshot})
    else:
        _summary(final, snapshot)
    raise typer.Exit(code)


def _summary(job: dict[str, Any], snapshot: dict[str, Any] | None) -> None:
    console = stdout()
    console.print(f"job {job['id']}: {status_text(job['status'])}", highlight=False)
    error = job.get("error")
    if error:
        console.print(f"  {error['code']}: {error['message']}", highlight=False)
    for warning in job.get("warnings") or []:
        where = " ".join(p for p in (warning.get("type"), warning.get("objectId")) if p)
        console.print(f"  warning: {where + ': ' if where else ''}{warning['reason']}")
    if snapshot is not None:
        objects = sum((snapshot.get("counts") or {}).values())
        console.print(
            f"snapshot {snapshot['id']}: {objects} objects, "
            f"{snapshot.get('newVersions', 0)} new versions, "
            f"{human_bytes(int(snapshot.get('storedBytes', 0)))} stored",
            highlight=False,
        )
        snapshot_detail(snapshot)


@app.command("list")
def list_snapshots(
    ctx: typer.Context,
    limit: LimitOption = 20,
    cursor: CursorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Snapshots of the tenant, newest first."""
    cli = context_of(ctx)
    page = call(lambda: cli.client().get(cli.tenant_path("/snapshots"), limit=limit, cursor=cursor))
    if as_json:
        print_json(page)
        return
    if not page["items"]:
        stdout().print("no snapshot yet")
        return
    snapshots_table(page["items"])
    if page.get("next"):
        stdout().print(f"more: --cursor {page['next']}", highlight=False)


@app.command("show")
def show(ctx: typer.Context, reference: SnapshotArgument, as_json: JsonOption = False) -> None:
    """One snapshot: counts per type, cost, integrity roots, retention."""
    cli = context_of(ctx)
    snapshot_id = cli.snapshot_id(reference)
    snapshot = call(lambda: cli.client().get(cli.tenant_path(f"/snapshots/{snapshot_id}")))
    _print_snapshot(snapshot, as_json)


@app.command("verify")
def verify(
    ctx: typer.Context,
    reference: SnapshotArgument,
    wait: WaitOption = False,
    idempotency_key: IdempotencyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every hash of a snapshot; with --wait, exit 3 if any does not match."""
    cli = context_of(ctx)
    snapshot_id = cli.snapshot_id(reference)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    path = cli.tenant_path(f"/snapshots/{snapshot_id}/verify")
    job = call(lambda: cli.client().post(path, headers=headers))
    if not wait:
        if as_json:
            print_json(job)
        else:
            stdout().print(f"verify job {job['id']} {job['status']}", highlight=False)
        return
    stderr().print(f"verify job {job['id']} (snapshot {snapshot_id})", highlight=False)
    final = call(lambda: follow_job(cli.client(), cli.tenant_id(), job["id"]))
    if as_json:
        print_json(final)
    else:
        _verdict(final, snapshot_id)
    raise typer.Exit(exit_code_for(final))


def _verdict(job: dict[str, Any], snapshot_id: str) -> None:
    console = stdout()
    result = job.get("result") or {}
    if job["status"] == "Completed":
        console.print(
            f"snapshot {snapshot_id} verified: {result.get('objects', 0)} objects, every hash, "
            "the Merkle root, the counts and the chain to the previous snapshot match",
            highlight=False,
        )
        return
    _summary(job, None)


@app.command("hold")
def hold(
    ctx: typer.Context,
    reference: SnapshotArgument,
    reason: Annotated[
        str, typer.Option(help="Why it is kept (a case, an incident); shown with the hold.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Place a legal hold (admin): retention keeps the snapshot until it is lifted."""
    cli = context_of(ctx)
    path = cli.tenant_path(f"/snapshots/{cli.snapshot_id(reference)}/legal-hold")
    snapshot = call(lambda: cli.client().put(path, {"reason": reason}))
    _print_snapshot(snapshot, as_json)


@app.command("release")
def release(ctx: typer.Context, reference: SnapshotArgument, as_json: JsonOption = False) -> None:
    """Lift a legal hold (admin): retention applies to the snapshot again."""
    cli = context_of(ctx)
    path = cli.tenant_path(f"/snapshots/{cli.snapshot_id(reference)}/legal-hold")
    snapshot = call(lambda: cli.client().delete(path))
    _print_snapshot(snapshot, as_json)


def _print_snapshot(snapshot: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(snapshot)
    else:
        snapshot_detail(snapshot)


app.command("objects")(browse.objects)
app.command("object")(browse.show_object)
