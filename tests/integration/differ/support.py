"""Driving the differ's handler through ``JobRunner`` against real MongoDB and Redis and
an in-process emulated tenant, snapshots taken by the snapshotter's own handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rewind_common.domain.changes import Change
from rewind_common.ids import new_id
from rewind_common.jobs.model import Job, JobKind
from rewind_common.storage.report_staging import ReportStaging
from rewind_common.storage.reports import ReportRecord, ReportStore
from rewind_common.storage.snapshots import SnapshotRecord
from rewind_common.tasks import DifferenceReportPayload
from rewind_differ.handler import DiffHandler
from tests.integration.snapshotter.support import Harness
from tests.integration.tenant.emulated import TENANT_ID


@dataclass
class Report:
    job: Job
    record: ReportRecord | None
    changes: list[Change]
    steps: int

    def by_key(self) -> dict[tuple[str, str], Change]:
        return {(c.type, c.object_id): c for c in self.changes}

    def kinds(self) -> set[tuple[str, str, str]]:
        """(type, object id, change kind) of every change."""
        return {(c.type, c.object_id, c.change.value) for c in self.changes}


@dataclass
class DiffHarness:
    base: Harness
    reports: ReportStore
    staging: ReportStaging

    @property
    def emulator(self) -> Any:
        return self.base.emulator

    async def snapshot(self, mode: str | None = None) -> SnapshotRecord:
        job, record = await self.base.snapshot(mode)
        assert record is not None, job.error
        return record

    def handler(self) -> DiffHandler:
        return DiffHandler(
            self.base.settings,
            self.base.store,
            self.reports,
            self.staging,
            self.base.open_graph(),
        )

    async def diff(
        self,
        snapshot_id: str,
        *,
        compare_to: str | None = None,
        scope: dict[str, Any] | None = None,
        step_seconds: float | None = None,
    ) -> Report:
        payload = DifferenceReportPayload(
            job_id=new_id(),
            tenant_id=TENANT_ID,
            snapshot_id=snapshot_id,
            compare_to=compare_to,
            scope=scope,
        ).dump()
        base = self.base
        previous = base.settings
        if step_seconds is not None:
            base.settings = previous.model_copy(update={"job_step_seconds": step_seconds})
        try:
            job, steps = await base.run(JobKind.DIFFERENCE_REPORT, payload, self.handler())
        finally:
            base.settings = previous
        changes = [c async for c in self.reports.iter_changes(job.id)]
        return Report(job, await self.reports.find(job.id), changes, steps)

    async def ids(self, type_name: str, *, deleted: bool = False) -> list[str]:
        state = await self.emulator.state()
        return [b["id"] for b in state["types"][type_name]["deleted" if deleted else "active"]]
