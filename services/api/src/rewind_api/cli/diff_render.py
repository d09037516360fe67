"""How difference reports print: the summary, and every change as table rows reading
backup → current, with whether a recovery can undo it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from rewind_api.cli.context import stdout
from rewind_api.cli.render import progress_text, status_text

#: Longest value shown in a cell; the JSON output has every value whole.
VALUE_WIDTH = 60
_KIND_STYLES = {
    "updated": "yellow",
    "linksChanged": "yellow",
    "softDeleted": "red",
    "hardDeleted": "bold red",
    "created": "magenta",
    "restored": "magenta",
}


def _when(value: str | None) -> str:
    return value.replace("T", " ")[:19] if value else "-"


def value_text(value: Any) -> str:
    """A value as one short line: strings bare, the rest as compact JSON."""
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def _ids(ids: Iterable[str]) -> str:
    listed = list(ids)
    shown = ", ".join(listed[:3])
    return shown + (f" (+{len(listed) - 3} more)" if len(listed) > 3 else "")


def change_rows(change: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(what, backup → current) rows of one change: one per property and link."""
    rows: list[tuple[str, str]] = []
    for prop in change.get("properties") or []:
        arrow = f"{value_text(prop.get('backup'))} → {value_text(prop.get('current'))}"
        rows.append((prop["path"], arrow))
    for name, link in (change.get("links") or {}).items():
        parts = []
        if link.get("removed"):
            parts.append(f"removed: {_ids(link['removed'])}")
        if link.get("added"):
            parts.append(f"added: {_ids(link['added'])}")
        rows.append((name, "; ".join(parts)))
    return rows or [("", "")]


def _verdict(recoverable: bool, reason: str | None) -> Text:
    if recoverable and not reason:
        return Text("yes", style="green")
    if recoverable:
        return Text(f"yes ({reason})", style="green")
    return Text(f"no: {reason}" if reason else "no", style="red")


def changes_table(changes: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold", show_lines=False)
    table.add_column("TYPE", no_wrap=True)
    table.add_column("OBJECT")
    table.add_column("CHANGE", no_wrap=True)
    table.add_column("ACTION", no_wrap=True)
    table.add_column("PROPERTY / LINK")
    table.add_column("BACKUP → CURRENT")
    table.add_column("RECOVERABLE")
    for change in changes:
        name = change.get("displayName") or ""
        who = f"{name}\n{change['objectId']}" if name else change["objectId"]
        kind = change["change"]
        style = _KIND_STYLES.get(kind, "")
        for index, (what, arrow) in enumerate(change_rows(change)):
            first = index == 0
            prop = next((p for p in change.get("properties") or [] if p["path"] == what), None)
            link = (change.get("links") or {}).get(what)
            part = prop or link
            # A restore, re-creation or delete is judged as a whole; an update by part.
            whole = part is None or (first and kind not in ("updated", "linksChanged"))
            verdict = (
                _verdict(bool(change["recoverable"]), change.get("reason"))
                if whole or part is None
                else _verdict(bool(part.get("recoverable", True)), part.get("reason"))
            )
            table.add_row(
                change["type"] if first else "",
                who if first else "",
                Text(kind, style=style) if first else "",
                change["action"] if first else "",
                what,
                arrow,
                verdict,
            )
    return table


def report_detail(report: Mapping[str, Any]) -> None:
    console = stdout()
    facts = Table(box=None, show_header=False)
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    against = report.get("compareTo") or "the live tenant"
    rows = [
        ("Report", report["id"]),
        ("Status", status_text(report["status"])),
        ("Progress", progress_text(report)),
        ("Compares", f"snapshot {report.get('snapshotId') or '-'} with {against}"),
        ("Scope", json.dumps(report["scope"]) if report.get("scope") else "every object"),
        ("Created", f"{_when(report.get('createdAt'))} by {report.get('createdBy') or '-'}"),
        ("Finished", _when(report.get("finishedAt"))),
    ]
    error = report.get("error")
    if error:
        rows.append(("Error", f"{error['code']}: {error['message']}"))
    for name, reason in (report.get("skippedTypes") or {}).items():
        rows.append(("Not compared", f"{name}: {reason}"))
    for name, value in rows:
        facts.add_row(name, value)
    console.print(facts)
    summary = report.get("summary") or {}
    if summary:
        table = Table(box=None, header_style="bold", title="Summary", title_justify="left")
        table.add_column("TYPE")
        table.add_column("CHANGES")
        for type_name, kinds in summary.items():
            table.add_row(type_name, ", ".join(f"{kind} {n}" for kind, n in kinds.items()))
        console.print(table)


def reports_table(reports: Sequence[Mapping[str, Any]]) -> None:
    table = Table(box=None, header_style="bold")
    table.add_column("ID", no_wrap=True)
    for name in ("STATUS", "SNAPSHOT", "COMPARED WITH", "CHANGES", "CREATED", "BY"):
        table.add_column(name, no_wrap=name != "BY")
    for report in reports:
        summary = report.get("summary") or {}
        count = sum(sum(kinds.values()) for kinds in summary.values())
        table.add_row(
            report["id"],
            status_text(report["status"]),
            report.get("snapshotId") or "-",
            report.get("compareTo") or "live tenant",
            str(count) if report.get("complete") else "-",
            _when(report.get("createdAt")),
            report.get("createdBy") or "-",
        )
    stdout().print(table)
