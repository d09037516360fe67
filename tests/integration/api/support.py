"""Helpers for API tests: tokens, queued tasks, server-sent events, snapshot data."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import redis.asyncio as aioredis

from rewind_common.domain.hashing import canonical_json, version_hash
from rewind_common.storage.manifest import ManifestEntry, Segment
from rewind_common.storage.snapshots import SnapshotRecord, SnapshotStore

T = TypeVar("T")

TENANT = "11111111-1111-4111-8111-111111111111"
OTHER_TENANT = "22222222-2222-4222-8222-222222222222"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def eventually(check: Callable[[], Awaitable[T | None]], *, seconds: float = 20) -> T:
    """The first truthy value ``check`` returns, polling for at most ``seconds``."""
    async with asyncio.timeout(seconds):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.05)


@dataclass(frozen=True)
class QueuedTask:
    name: str
    args: list[Any]
    kwargs: dict[str, Any]


async def queued_tasks(redis: aioredis.Redis, queue: str) -> list[QueuedTask]:
    """The tasks waiting in a Celery queue on Redis, oldest first, left in place."""
    raw = await redis.lrange(queue, 0, -1)
    tasks = []
    for item in reversed(raw):  # kombu pushes on the left and pops on the right
        envelope = json.loads(item)
        body = envelope["body"]
        if envelope["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, kwargs, _ = json.loads(body)
        tasks.append(QueuedTask(envelope["headers"]["task"], args, kwargs))
    return tasks


@dataclass(frozen=True)
class Event:
    event: str | None
    data: Any
    id: str | None


def parse_sse(text: str) -> list[Event]:
    """Events of a ``text/event-stream`` body (keep-alive comments skipped)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name = None
        data: list[str] = []
        event_id = None
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event_id = value
        if data:
            events.append(Event(name, json.loads("\n".join(data)), event_id))
    return events


async def store_snapshot(
    store: SnapshotStore,
    snapshot_id: str,
    *,
    tenant_id: str = TENANT,
    created_at: datetime | None = None,
    users: int = 3,
) -> SnapshotRecord:
    """A small complete snapshot: ``users`` users (the first with a manager, the last
    soft-deleted) and one group with members and owners."""
    segment = snapshot_id
    bodies = [{"id": f"u{i:03d}", "displayName": f"User {i}"} for i in range(users)]
    group = {"id": "g001", "displayName": "Admins", "groupTypes": []}
    await store.put_versions(
        snapshot_id, "user", [(version_hash(b), canonical_json(b)) for b in bodies]
    )
    await store.put_versions(snapshot_id, "group", [(version_hash(group), canonical_json(group))])
    members = await store.put_linkset(["u000", "u001"])
    owners = await store.put_linkset(["u002"])
    entries = [
        ManifestEntry(
            type="user",
            object_id=body["id"],
            version=version_hash(body),
            deleted=index == users - 1,
            display_name=body["displayName"],
            links={"manager": "u001"} if index == 0 else {},
        )
        for index, body in enumerate(bodies)
    ]
    entries.append(
        ManifestEntry(
            type="group",
            object_id="g001",
            version=version_hash(group),
            display_name="Admins",
            links={"members": members, "owners": owners},
        )
    )
    await store.put_entries(segment, entries)
    created = created_at or datetime.now(UTC)
    record = SnapshotRecord(
        id=snapshot_id,
        tenant_id=tenant_id,
        job_id=f"job-{snapshot_id}",
        mode="full",
        status="Completed",
        created_at=created,
        completed_at=created + timedelta(seconds=5),
        chain=[Segment(segment, frozenset({"user", "group"}))],
        counts={"user": users, "group": 1},
        deleted_counts={"user": 1},
        link_counts={"members": 2, "owners": 1, "manager": 1},
        entry_count=users + 1,
        new_versions=users + 1,
        stored_bytes=1234,
        manifest_root="m" * 64,
        merkle_root="a" * 64,
        previous_root=None,
        previous_snapshot_id=None,
    )
    await store.insert_snapshot(record)
    return record
