"""Snapshots: listing them with their retention and legal hold, starting snapshot and
verification jobs, placing and lifting holds.

A recovery's pre-recovery snapshot is read, browsed and verified by its id like a
tenant's snapshot (its recovery names it as the way to undo it, so an administrator
must be able to see what it holds), but it is not listed among the tenant's backups and
takes no legal hold: it is kept with its recovery."""

from __future__ import annotations

from rewind_api.auth import Principal
from rewind_api.schemas import SnapshotCreate, SnapshotOut
from rewind_api.services.jobs import JobRequest, JobService, Started
from rewind_api.state import AppState
from rewind_api.views import pre_recovery_snapshot_view, snapshot_view
from rewind_common.domain.retention import SnapshotAge, decide
from rewind_common.errors import Conflict, NotFound
from rewind_common.ids import new_id
from rewind_common.jobs.model import JobKind, utcnow
from rewind_common.storage.pre_recovery import PreRecoverySnapshot, PreRecoverySnapshots
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
        found = await self._find(tenant_id, snapshot_id)
        if isinstance(found, PreRecoverySnapshot):
            return pre_recovery_snapshot_view(found)
        return (await self._views(tenant_id, [found]))[0]

    async def readable(self, tenant_id: str, snapshot_id: str) -> SnapshotRecord:
        """The snapshot to read objects from, a tenant's or a pre-recovery one."""
        found = await self._find(tenant_id, snapshot_id)
        return found.as_record() if isinstance(found, PreRecoverySnapshot) else found

    async def set_hold(
        self, tenant_id: str, snapshot_id: str, *, by: str, reason: str
    ) -> SnapshotOut:
        record = await self._backup(tenant_id, snapshot_id)
        await self._store.set_hold(record.id, by=by, at=utcnow(), reason=reason)
        return (await self._views(tenant_id, [record]))[0]

    async def clear_hold(self, tenant_id: str, snapshot_id: str) -> SnapshotOut:
        record = await self._backup(tenant_id, snapshot_id)
        await self._store.clear_hold(record.id)
        return (await self._views(tenant_id, [record]))[0]

    async def _find(self, tenant_id: str, snapshot_id: str) -> SnapshotRecord | PreRecoverySnapshot:
        found = await PreRecoverySnapshots(self._state.mongo, self._store).find_any(
            snapshot_id, tenant_id
        )
        if found is not None:
            return found
        raise NotFound(f"snapshot {snapshot_id} does not exist in tenant {tenant_id}")

    async def _backup(self, tenant_id: str, snapshot_id: str) -> SnapshotRecord:
        found = await self._find(tenant_id, snapshot_id)
        if isinstance(found, PreRecoverySnapshot):
            raise Conflict(
                f"snapshot {snapshot_id} is the pre-recovery snapshot of recovery "
                f"{found.recovery_id}: it is kept as long as its recovery, so a legal hold "
                "does not apply to it"
            )
        return found

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
        record = await self.readable(tenant_id, snapshot_id)
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
        by_id = {decision.id: decision for decision in decisions}
        shown_held = [record.id for record in records if record.id in held]
        holds = await self._store.hold_details(shown_held) if shown_held else {}
        return [
            snapshot_view(
                record,
                hold=holds.get(record.id),
                expires_at=by_id[record.id].expires_at if record.id in by_id else None,
                retention_reason=by_id[record.id].reason if record.id in by_id else None,
            )
            for record in records
        ]
