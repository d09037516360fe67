"""Snapshots: listing them with their retention and legal hold, starting snapshot and
verification jobs, placing and lifting holds."""

from __future__ import annotations

from datetime import datetime

from rewind_api.auth import Principal
from rewind_api.schemas import SnapshotCreate, SnapshotOut
from rewind_api.services.jobs import JobRequest, JobService, Started
from rewind_api.state import AppState
from rewind_api.views import snapshot_view
from rewind_common.domain.retention import SnapshotAge, decide
from rewind_common.ids import new_id
from rewind_common.jobs.model import JobKind, utcnow
from rewind_common.storage.snapshots import SnapshotRecord
from rewind_common.tasks import SnapshotPayload, TaskName, VerifyPayload


class SnapshotService:
    def __init__(self, state: AppState) -> None:
        self._state = state
        self._store = state.snapshots

    async def page(
        self, tenant_id: str, *, cursor: str | None, limit: int
    ) -> tuple[list[SnapshotOut], str | None]:
        records, following = await self._store.page(tenant_id, cursor=cursor, limit=limit)
        return await self._views(tenant_id, records), following

    async def get(self, tenant_id: str, snapshot_id: str) -> SnapshotOut:
        record = await self._store.get(tenant_id, snapshot_id)
        return (await self._views(tenant_id, [record]))[0]

    async def set_hold(
        self, tenant_id: str, snapshot_id: str, *, by: str, reason: str
    ) -> SnapshotOut:
        record = await self._store.get(tenant_id, snapshot_id)
        await self._store.set_hold(record.id, by=by, at=utcnow(), reason=reason)
        return (await self._views(tenant_id, [record]))[0]

    async def clear_hold(self, tenant_id: str, snapshot_id: str) -> SnapshotOut:
        record = await self._store.get(tenant_id, snapshot_id)
        await self._store.clear_hold(record.id)
        return (await self._views(tenant_id, [record]))[0]

    async def start_snapshot(
        self,
        tenant_id: str,
        body: SnapshotCreate,
        *,
        principal: Principal,
        route: str,
        idempotency_key: str | None,
    ) -> Started:
        # The snapshot's id is fixed now, so the job names its snapshot from the start.
        snapshot_id = new_id()
        mode = body.mode
        return await JobService(self._state).start(
            JobRequest(
                tenant_id=tenant_id,
                kind=JobKind.SNAPSHOT,
                task=TaskName.SNAPSHOT,
                created_by=principal.name,
                payload=lambda job_id: SnapshotPayload(
                    job_id=job_id, tenant_id=tenant_id, snapshot_id=snapshot_id, mode=mode
                ),
                route=route,
                body=body.model_dump(mode="json", by_alias=True, exclude_none=True),
                parameters={"mode": mode, "snapshotId": snapshot_id},
                idempotency_key=idempotency_key,
            )
        )

    async def start_verify(
        self,
        tenant_id: str,
        snapshot_id: str,
        *,
        principal: Principal,
        route: str,
        idempotency_key: str | None,
    ) -> Started:
        record = await self._store.get(tenant_id, snapshot_id)
        return await JobService(self._state).start(
            JobRequest(
                tenant_id=tenant_id,
                kind=JobKind.VERIFY,
                task=TaskName.VERIFY,
                created_by=principal.name,
                payload=lambda job_id: VerifyPayload(
                    job_id=job_id, tenant_id=tenant_id, snapshot_id=record.id
                ),
                route=route,
                body={},
                parameters={"snapshotId": record.id},
                idempotency_key=idempotency_key,
            )
        )

    async def _views(self, tenant_id: str, records: list[SnapshotRecord]) -> list[SnapshotOut]:
        """Views with the legal hold and ``expiresAt``. Expiry depends on every snapshot of
        the tenant (the newest of each day is kept longer), so all their dates are read."""
        if not records:
            return []
        ages, held = await self._store.expiry_inputs(tenant_id)
        known = {age.id for age in ages}
        # a snapshot published since the dates were read still counts in its own view
        ages = ages + [
            SnapshotAge(id=record.id, created_at=record.created_at)
            for record in records
            if record.id not in known
        ]
        decisions = decide(ages, policy=self._state.settings.retention, now=utcnow(), held=held)
        expires: dict[str, datetime | None] = {d.id: d.expires_at for d in decisions}
        shown_held = [record.id for record in records if record.id in held]
        holds = await self._store.hold_details(shown_held) if shown_held else {}
        return [
            snapshot_view(record, hold=holds.get(record.id), expires_at=expires.get(record.id))
            for record in records
        ]
