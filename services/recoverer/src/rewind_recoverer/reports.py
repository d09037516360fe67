"""Starting a recovery from a difference report: the report's snapshot and the objects
its changes name (``build_plan`` recomputes what to do about them against the live
tenant, as a recovery must)."""

from __future__ import annotations

from rewind_common.domain.changes import Change
from rewind_common.errors import InvalidRequest
from rewind_common.storage.reports import ReportStore
from rewind_recoverer.planning import ReportChanges


def report_changes(reports: ReportStore) -> ReportChanges:
    async def changes(tenant_id: str, report_id: str) -> tuple[str, list[Change]]:
        record = await reports.get(tenant_id, report_id)
        if not record.complete:
            raise InvalidRequest(
                f"difference report {report_id} is not complete yet; wait for its job to end"
            )
        return record.snapshot_id, [c async for c in reports.iter_changes(report_id)]

    return changes
