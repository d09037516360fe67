"""The retention job: remove a tenant's snapshots past their retention, then the data no
remaining snapshot needs.

1. ``domain.retention.decide`` says which snapshots expired (never one under legal
   hold, never the newest); their records are deleted first, so from then on no reader
   can reach their data.
2. Garbage collection keeps every segment in the chain of a remaining snapshot, or in
   the base chain of a snapshot being taken, and every pack those segments reference.
   It deletes the other segments of the tenant (their chunks and records), the staging
   of sealed snapshots and of snapshot jobs that failed or were canceled more than
   ``ORPHAN_MARGIN`` ago, and the packs nothing kept references, except packs of
   snapshots still being taken.
3. Difference reports older than ``keep_reports_days`` are removed with their changes,
   and the staged live state of reports that failed or were killed is cleared.

Pre-recovery snapshots are never removed: their records live with their recovery, not
among the tenant's snapshots, and their data in segments and packs of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from rewind_common.domain.retention import SnapshotAge, decide
from rewind_common.jobs.model import Job, JobKind, JobStatus, utcnow
from rewind_common.jobs.runner import Outcome, StepContext
from rewind_common.settings import Settings
from rewind_common.storage.cleanup import SnapshotCleanup
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.report_staging import ReportStaging
from rewind_common.storage.reports import ReportStore
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tasks import RetentionPayload

#: A failed or canceled snapshot's data is left this long before it is removed.
ORPHAN_MARGIN = timedelta(hours=1)
_RUNNING = (JobStatus.QUEUED, JobStatus.LOADING_DATA, JobStatus.IN_PROGRESS)
_ABANDONED = (JobStatus.FAILED, JobStatus.CANCELED)


class RetentionHandler:
    def __init__(self, settings: Settings, store: SnapshotStore, jobs: JobRepository) -> None:
        self._settings = settings
        self._store = store
        self._jobs = jobs
        self._cleanup = SnapshotCleanup(store)
        self._reports = ReportStore(store.mongo)
        self._report_staging = ReportStaging(store.mongo)

    async def step(self, context: StepContext) -> Outcome | None:
        payload = RetentionPayload.model_validate(context.payload)
        await context.status(JobStatus.IN_PROGRESS)
        expired = await self.expire(payload.tenant_id)
        collected = await self.collect(payload.tenant_id)
        reports = await self.expire_reports(payload.tenant_id)
        result = {
            "snapshotsDeleted": len(expired),
            "expired": expired,
            **collected,
            **reports,
        }
        counters = {k: v for k, v in result.items() if isinstance(v, int)}
        return Outcome(JobStatus.COMPLETED, result=result, counters=counters)

    async def canceled(self, context: StepContext) -> Mapping[str, Any]:
        return {}

    async def expire(self, tenant_id: str) -> list[str]:
        """Delete the tenant's expired snapshot records; returns their ids."""
        records = await self._store.all_records(tenant_id)
        held = await self._store.holds([record.id for record in records])
        decisions = decide(
            [SnapshotAge(record.id, record.created_at) for record in records],
            policy=self._settings.retention,
            now=utcnow(),
            held=held,
        )
        expired = [decision.id for decision in decisions if decision.expired]
        if expired:
            await self._cleanup.delete_records(expired)
        return expired

    async def collect(self, tenant_id: str) -> dict[str, int]:
        """Delete what no remaining (or running) snapshot of the tenant needs."""
        records = await self._store.all_records(tenant_id)
        live = {segment.id for record in records for segment in record.chain}
        jobs = await self._snapshot_jobs(tenant_id)
        running = {_snapshot_id(job) for job in jobs if job.status in _RUNNING} - {None}
        for job in jobs:
            if job.status in _RUNNING:
                state = await self._jobs.load_checkpoint(job.id)
                live |= {str(s["id"]) for s in state.get("base_chain", []) if "id" in s}
        cutoff = utcnow() - ORPHAN_MARGIN
        abandoned = {
            _snapshot_id(job)
            for job in jobs
            if job.status in _ABANDONED and job.finished_at is not None and job.finished_at < cutoff
        } - {None}
        sealed = await self._store.segments_of(tenant_id)
        dead = (set(sealed) | {s for s in abandoned if s}) - live - running
        chunks = await self._cleanup.delete_segments(sorted(dead))
        staged = await self._cleanup.staged_segments()
        done_staging = (staged & (set(sealed) | dead)) - running
        staging = await self._cleanup.delete_staging(sorted(done_staging))
        referenced = {pack for segment in live for pack in sealed.get(segment, [])}
        unfinished = running | (live - set(sealed))
        garbage = [
            pack
            for pack, writer in await self._cleanup.packs_of(tenant_id)
            if pack not in referenced
            and writer not in unfinished
            and (writer in sealed or writer in dead)
        ]
        packs = await self._cleanup.delete_packs(garbage)
        return {
            "segmentsDeleted": len(dead),
            "chunksDeleted": chunks,
            "stagingDeleted": staging,
            "packsDeleted": packs,
        }

    async def expire_reports(self, tenant_id: str) -> dict[str, int]:
        """Remove the tenant's reports past their retention, and the staging that
        reports which will never finish left behind."""
        now = utcnow()
        cutoff = now - timedelta(days=self._settings.retention.keep_reports_days)
        reports = await self._reports.delete(await self._reports.created_before(tenant_id, cutoff))
        abandoned = []
        for report_id in sorted(await self._report_staging.staged_reports()):
            job = await self._jobs.find(report_id)  # a report shares its job's id
            if (
                job is not None
                and job.tenant_id == tenant_id
                and job.status.terminal
                and job.finished_at is not None
                and job.finished_at < now - ORPHAN_MARGIN
            ):
                abandoned.append(report_id)
        staging = await self._report_staging.remove(abandoned)
        return {"reportsDeleted": reports, "reportStagingDeleted": staging}

    async def _snapshot_jobs(self, tenant_id: str) -> list[Job]:
        jobs: list[Job] = []
        cursor: str | None = None
        while True:
            page, cursor = await self._jobs.page(
                tenant_id, kind=JobKind.SNAPSHOT, cursor=cursor, limit=500
            )
            jobs.extend(page)
            if cursor is None:
                return jobs


def _snapshot_id(job: Job) -> str | None:
    value = job.parameters.get("snapshotId") or job.result.get("snapshotId")
    return str(value) if value else None
