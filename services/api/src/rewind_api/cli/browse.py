"""``rewind snapshot objects`` and ``rewind snapshot object``: what a backup holds.

An administrator looking into an incident asks what an object looked like when it was
backed up (a Conditional Access policy's exclusions, a group's members) before deciding
what to recover; these read it without a difference report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer
from rich.table import Table

from rewind_api.cli.context import (
    CursorOption,
    JsonOption,
    LimitOption,
    SnapshotArgument,
    call,
    context_of,
    stdout,
)
from rewind_api.cli.render import print_json


def objects(
    ctx: typer.Context,
    reference: SnapshotArgument,
    type_name: Annotated[
        str | None,
        typer.Option("--type", help="One object type (e.g. user); default: every type in turn."),
    ] = None,
    limit: LimitOption = 50,
    cursor: CursorOption = None,
    as_json: JsonOption = False,
) -> None:
    """The objects a snapshot holds, by type: ids, names, deleted or not, versions."""
    cli = context_of(ctx)
    path = cli.tenant_path(f"/snapshots/{cli.snapshot_id(reference)}/objects")
    page = call(lambda: cli.client().get(path, type=type_name, limit=limit, cursor=cursor))
    if as_json:
        print_json(page)
        return
    if not page["items"]:
        stdout().print("no object of that type in the snapshot" if type_name else "no object")
        return
    _objects_table(page["items"])
    if page.get("next"):
        stdout().print(f"more: --cursor {page['next']}", highlight=False)


def show_object(
    ctx: typer.Context,
    reference: SnapshotArgument,
    type_name: Annotated[str, typer.Argument(metavar="TYPE", help="The object's type.")],
    object_id: str,
    as_json: JsonOption = False,
) -> None:
    """One object as it was backed up: its body as Graph returned it, and its links."""
    cli = context_of(ctx)
    snapshot_id = cli.snapshot_id(reference)
    path = cli.tenant_path(f"/snapshots/{snapshot_id}/objects/{type_name}/{object_id}")
    found = call(lambda: cli.client().get(path))
    if as_json:
        print_json(found)
        return
    console = stdout()
    state = " (in the recycle bin)" if found.get("deleted") else ""
    console.print(
        f"{found['type']} {found['objectId']} {found.get('displayName') or ''}{state}".rstrip(),
        highlight=False,
    )
    console.print(f"version {found.get('versionHash', '-')}", highlight=False)
    console.print_json(data=found.get("body") or {}, ensure_ascii=False)
    for name, value in (found.get("links") or {}).items():
        console.print(_link_text(name, value), highlight=False)


def _objects_table(items: Sequence[Mapping[str, Any]]) -> None:
    table = Table(box=None, header_style="bold")
    for name in ("TYPE", "OBJECT ID", "DISPLAY NAME", "DELETED", "VERSION"):
        table.add_column(name, no_wrap=name != "DISPLAY NAME")
    for item in items:
        table.add_row(
            item["type"],
            item["objectId"],
            item.get("displayName") or "",
            "yes" if item.get("deleted") else "",
            str(item.get("versionHash", ""))[:12],
        )
    stdout().print(table)


def _link_text(name: str, value: list[str] | str | None) -> str:
    if isinstance(value, list):
        shown = ", ".join(value[:20]) + (f", … ({len(value)} in all)" if len(value) > 20 else "")
        return f"{name} ({len(value)}): {shown or '-'}"
    return f"{name}: {value or '-'}"
