"""The first step of a recovery: compute its plan against the live tenant, store it,
and take the pre-recovery snapshot of everything it will write.

Nothing is written to the tenant before this step has finished, so a step that dies
half-way simply runs again: the plan is recomputed and stored over the earlier one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from rewind_common.domain.changes import Change
from rewind_common.domain.lineage import widen_scope
from rewind_common.domain.plan import RecoveryPlan, build_plan
from rewind_common.domain.scope import Scope
from rewind_common.errors import InvalidRequest
from rewind_common.graph.client import GraphClient
from rewind_common.jobs.model import utcnow
from rewind_common.settings import Settings, TenantConnection
from rewind_common.storage.pre_recovery import PreRecoverySnapshot, PreRecoverySnapshots
from rewind_common.storage.recoveries import RecoveryStore
from rewind_common.storage.snapshot_reader import SnapshotReader
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tasks import RecoveryPayload
from rewind_common.tenant import TenantReader
from rewind_recoverer.loading import PlanInputs, load_inputs
from rewind_recoverer.source import Source, effective_scope, open_source


class ReportChanges(Protocol):
    """A difference report's snapshot and changes (the differ's storage)."""

    async def __call__(self, tenant_id: str, report_id: str) -> tuple[str, list[Change]]: ...


@dataclass(frozen=True)
class Planned:
    plan: RecoveryPlan
    inputs: PlanInputs
    source: Source
    scope: Scope
    record: dict[str, Any]


class Planner:
    def __init__(
        self,
        settings: Settings,
        store: SnapshotStore,
        recoveries: RecoveryStore,
        pre_recovery: PreRecoverySnapshots,
        report_changes: ReportChanges | None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._recoveries = recoveries
        self._pre = pre_recovery
        self._report_changes = report_changes

    async def plan(
        self,
        payload: RecoveryPayload,
        tenant: TenantConnection,
        graph: GraphClient,
        reader: TenantReader,
    ) -> Planned:
        requested = Scope.from_dict(payload.scope, max_ids=self._settings.max_scope_ids)
        changes: list[Change] | None = None
        snapshot_id = payload.snapshot_id
        if payload.difference_report_id is not None:
            if self._report_changes is None:
                raise InvalidRequest("recoveries from difference reports are not available")
            snapshot_id, changes = await self._report_changes(
                payload.tenant_id, payload.difference_report_id
            )
        if snapshot_id is None:
            raise InvalidRequest("a recovery needs a snapshotId or a differenceReportId")
        source = await open_source(payload.tenant_id, snapshot_id, pre_recovery=self._pre)
        lineage = await self._recoveries.lineage(payload.tenant_id)
        if changes is not None and lineage:
            changes = [replace(c, object_id=lineage.get(c.object_id, c.object_id)) for c in changes]
        scope = widen_scope(effective_scope(requested, source, changes), lineage)
        inputs = await load_inputs(
            source.chain,
            scope,
            snapshots=SnapshotReader(self._store),
            reader=reader,
            graph=graph,
            break_glass=tenant.break_glass_accounts,
            lineage=lineage,
        )
        plan = build_plan(
            inputs.backup,
            inputs.live,
            scope=scope,
            break_glass=tenant.break_glass_accounts,
            resolver=inputs.resolver,
            changes=changes,
        )
        record = {
            "snapshotId": source.snapshot_id,
            "differenceReportId": payload.difference_report_id,
            "dryRun": payload.dry_run,
            "requestedScope": requested.to_dict(),
            "scope": scope.to_dict(),
            "sourcePartial": source.partial,
            "summary": plan.summary(),
            "writes": plan.writes,
            "runnable": sum(1 for a in plan.actions if a.runnable),
            "breakGlassAccounts": [a.to_dict() for a in plan.break_glass],
            "notes": list(source.notes),
            "plannedAt": utcnow(),
            "preRecoverySnapshotId": None,
            "verification": None,
        }
        return Planned(plan, inputs, source, scope, record)

    async def store(self, recovery_id: str, tenant_id: str, planned: Planned) -> None:
        await self._recoveries.save_plan(
            recovery_id,
            tenant_id,
            planned.record,
            [action.to_dict() for action in planned.plan.actions],
        )

    async def pre_recovery_snapshot(
        self,
        snapshot_id: str,
        recovery_id: str,
        tenant_id: str,
        planned: Planned,
        checkpoint: Callable[[], Awaitable[None]],
    ) -> PreRecoverySnapshot:
        """Store every existing object the plan writes, as it is now, and link it from
        the recovery's record."""
        live = planned.inputs.live_by_key()
        states = [live[key] for key in planned.plan.touched() if key in live]
        await checkpoint()
        snapshot = await self._pre.write(
            snapshot_id,
            tenant_id=tenant_id,
            recovery_id=recovery_id,
            source_snapshot_id=planned.source.snapshot_id,
            states=states,
            at=utcnow(),
        )
        await self._recoveries.update_record(recovery_id, {"preRecoverySnapshotId": snapshot.id})
        return snapshot


def plan_warnings(planned: Planned) -> Sequence[tuple[str | None, str | None, str]]:
    out: list[tuple[str | None, str | None, str]] = [(None, None, n) for n in planned.source.notes]
    out.extend((w.type, w.object_id, w.reason) for w in planned.plan.warnings)
    return out
