"""How the CLI prints things: rich tables for people, exact JSON (``--json``) for scripts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import typer
from rich.table import Table

from rewind_api.cli.context import stdout

_TERMINAL = frozenset({"Completed", "Completed with warnings", "Failed", "Canceled"})

_STATUS_STYLES = {
    "Completed": "green",
    "Completed with warnings": "yellow",
    "Failed": "red",
    "Canceled": "magenta",
    "Queued": "dim",
}


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def status_text(status: str) -> str:
    style = _STATUS_STYLES.get(status, "cyan")
    return f"[{style}]{status}[/{style}]"


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _when(value: str | None) -> str:
    return value.replace("T", " ")[:19] if value else "-"


def progress_text(job: Mapping[str, Any]) -> str:
    progress = job.get("progress") or {}
    done, total = int(progress.get("done", 0)), int(progress.get("total", 0))
    return f"{done}/{total}" if total else (str(done) if done else "-")


def jobs_table(jobs: Sequence[Mapping[str, Any]]) -> None:
    table = Table(box=None, header_style="bold")
    table.add_column("ID", no_wrap=True)
    for name in ("KIND", "STATUS", "PROGRESS", "CREATED", "BY", "SNAPSHOT"):
        table.add_column(name, no_wrap=name != "BY")
    for job in jobs:
        table.add_row(
            job["id"],
            job["kind"],
            status_text(job["status"]),
            progress_text(job),
            _when(job.get("createdAt")),
            job.get("createdBy") or "-",
            job.get("snapshotId") or "-",
        )
    stdout().print(table)


def snapshots_table(snapshots: Sequence[Mapping[str, Any]]) -> None:
    table = Table(box=None, header_style="bold")
    table.add_column("ID", no_wrap=True)
    for name in ("CREATED", "MODE", "STATUS", "OBJECTS", "NEW", "STORED", "HOLD", "EXPIRES"):
        table.add_column(name, no_wrap=True)
    for snapshot in snapshots:
        table.add_row(
            snapshot["id"],
            _when(snapshot.get("createdAt")),
            snapshot.get("mode", "-"),
            status_text(snapshot.get("status", "-")),
            str(sum((snapshot.get("counts") or {}).values())),
            str(snapshot.get("newVersions", 0)),
            human_bytes(int(snapshot.get("storedBytes", 0))),
            "yes" if snapshot.get("legalHold") else "",
            _when(snapshot.get("expiresAt")) if snapshot.get("expiresAt") else "-",
        )
    stdout().print(table)


def snapshot_detail(snapshot: Mapping[str, Any]) -> None:
    console = stdout()
    facts = Table(box=None, show_header=False)
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(no_wrap=True)
    rows = [
        ("Snapshot", snapshot["id"]),
        ("Status", status_text(snapshot.get("status", "-"))),
        ("Mode", snapshot.get("mode", "-")),
        ("Created", _when(snapshot.get("createdAt"))),
        ("Completed", _when(snapshot.get("completedAt"))),
        ("New versions", str(snapshot.get("newVersions", 0))),
        ("Stored", human_bytes(int(snapshot.get("storedBytes", 0)))),
        ("Merkle root", snapshot.get("merkleRoot") or "-"),
        ("Previous root", snapshot.get("previousRoot") or "-"),
        ("Legal hold", _hold_text(snapshot)),
        ("Expires", _expiry_text(snapshot)),
        ("Job", snapshot.get("jobId") or "-"),
    ]
    if snapshot.get("partial"):
        rows[2:3] = [
            ("Mode", f"{snapshot.get('mode', '-')} (partial: only what the recovery wrote)"),
            ("Recovery", snapshot.get("recoveryId") or "-"),
            ("Recovered from", snapshot.get("sourceSnapshotId") or "-"),
        ]
    for name, value in rows:
        facts.add_row(name, value)
    console.print(facts)
    counts = snapshot.get("counts") or {}
    deleted = snapshot.get("deletedCounts") or {}
    unread = snapshot.get("unreadTypes") or []
    bins_unread = set(snapshot.get("unreadDeletedItems") or [])
    if counts or unread:
        table = Table(box=None, header_style="bold")
        table.add_column("TYPE")
        table.add_column("OBJECTS", justify="right")
        table.add_column("IN RECYCLE BIN", justify="right")
        for type_name, count in counts.items():
            in_bin = "not read" if type_name in bins_unread else str(deleted.get(type_name, 0))
            table.add_row(type_name, str(count), in_bin)
        for type_name in unread:
            table.add_row(type_name, "not read", "not read")
        console.print(table)


def _expiry_text(snapshot: Mapping[str, Any]) -> str:
    reason = snapshot.get("retentionReason")
    if snapshot.get("expiresAt"):
        when = _when(snapshot.get("expiresAt"))
        return f"{when} ({reason})" if reason else when
    return (
        f"not while it is the {reason}"
        if reason == "newest snapshot"
        else (f"no ({reason})" if reason else "no")
    )


def _hold_text(snapshot: Mapping[str, Any]) -> str:
    if not snapshot.get("legalHold"):
        return "no"
    detail = snapshot.get("legalHoldDetail") or {}
    if not detail:
        return "yes"
    return (
        f"yes, since {_when(detail.get('placedAt'))} by {detail.get('placedBy', '-')}: "
        f"{detail.get('reason', '')}"
    )


def job_detail(job: Mapping[str, Any]) -> None:
    console = stdout()
    facts = Table(box=None, show_header=False)
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    rows = [
        ("Job", job["id"]),
        ("Kind", job["kind"]),
        ("Status", status_text(job["status"])),
        ("Progress", progress_text(job)),
        ("Created", f"{_when(job.get('createdAt'))} by {job.get('createdBy') or '-'}"),
        ("Started", _when(job.get("startedAt"))),
        ("Finished", _when(job.get("finishedAt"))),
    ]
    if job.get("snapshotId"):
        rows.append(("Snapshot", job["snapshotId"]))
    if job.get("cancelRequested") and job["status"] not in _TERMINAL:
        rows.append(("Cancel", "requested; the job stops at its next unit of work"))
    error = job.get("error")
    if error:
        rows.append(("Error", f"{error['code']}: {error['message']}"))
    for name, value in rows:
        facts.add_row(name, value)
    console.print(facts)
    warnings = job.get("warnings") or []
    if warnings:
        table = Table(box=None, header_style="bold", title="Warnings", title_justify="left")
        for name in ("TYPE", "OBJECT", "REASON"):
            table.add_column(name)
        for warning in warnings:
            table.add_row(
                warning.get("type") or "-", warning.get("objectId") or "-", warning["reason"]
            )
        console.print(table)
