"""The difference report job, as resumable steps.

1. **Plan** (first step): the snapshot (and the other snapshot, if any) must exist in
   the tenant; the scope becomes one task per type; the report's record is stored.
   Against the live tenant, the tenant's lineage of re-created objects is read with
   it (``recreated``).
2. **Load** (``Loading data``): the live state of each type in scope, staged
   (``loading``). A report between two snapshots reads nothing live.
3. **Compare** (``In progress``): each type's backup and current sides merge-joined by
   id, changes stored (``compare``). A type is compared as soon as it is loaded, while
   others are still read: the job is ``In progress`` once every type is loaded, with
   what is left to compare.
4. **Finish**: the summary counted from the stored changes, the record completed, the
   staging removed. The job ends ``Completed`` (``Completed with warnings`` when a type
   could not be compared).

Cancel is honoured between pages and batches; the changes already stored stay listed,
and the record stays incomplete, so no recovery starts from a partial report.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rewind_common.domain.lineage import widen_scope
from rewind_common.domain.scope import Scope
from rewind_common.graph.client import GraphClient
from rewind_common.jobs.model import JobStatus, JobWarning, Progress, utcnow
from rewind_common.jobs.runner import Outcome, StepContext
from rewind_common.jobs.worker import GraphOpener
from rewind_common.metrics import CHANGES_DETECTED
from rewind_common.settings import Settings
from rewind_common.storage.recoveries import RecoveryStore
from rewind_common.storage.report_staging import ReportStaging
from rewind_common.storage.reports import ReportRecord, ReportStore
from rewind_common.storage.snapshot_reader import SnapshotReader
from rewind_common.storage.snapshots import SnapshotRecord, SnapshotStore
from rewind_common.tasks import DifferenceReportPayload
from rewind_common.tenant import TenantReader
from rewind_differ.compare import ComparePhase
from rewind_differ.loading import LoadPhase
from rewind_differ.plan import partial_types, plan_report
from rewind_differ.recreated import Recreated
from rewind_differ.resolver import (
    ExistenceCheck,
    GraphExistence,
    ReferenceChecker,
    SnapshotExistence,
)
from rewind_differ.state import COMPARE, FINISH, LOAD, DiffState

#: Opens a Graph client for a tenant for the length of a step.


class DiffHandler:
    def __init__(
        self,
        settings: Settings,
        store: SnapshotStore,
        reports: ReportStore,
        staging: ReportStaging,
        open_graph: GraphOpener,
    ) -> None:
        self._settings = settings
        self._store = store
        self._reports = reports
        self._staging = staging
        self._open_graph = open_graph
        self._recoveries = RecoveryStore(store.mongo)

    async def step(self, context: StepContext) -> Outcome | None:
        payload = DifferenceReportPayload.model_validate(context.payload)
        state = await self._load(context, payload)
        saving = asyncio.Lock()

        async def save() -> None:
            # Types are loaded and compared concurrently: one checkpoint write at a time,
            # each of the whole state as it is then.
            async with saving:
                context.state.clear()
                context.state.update(state.to_json())
                await context.checkpoint()

        backup = await self._store.get(payload.tenant_id, state.snapshot_id)
        other = (
            await self._store.get(payload.tenant_id, state.compare_to) if state.compare_to else None
        )
        scope = Scope.from_dict(payload.scope, max_ids=self._settings.max_scope_ids)
        if state.phase == FINISH:
            return await self._finish(state)
        async with contextlib.AsyncExitStack() as stack:
            graph = None
            if other is None:
                tenant = self._settings.tenant(payload.tenant_id)
                graph = await stack.enter_async_context(self._open_graph(tenant))
            recreated = await Recreated.of(self._store, backup.chain, state.lineage)
            comparing = self._comparing(
                context, graph, state, scope, backup, other, save, recreated
            )
            if state.phase == LOAD:
                assert graph is not None
                await context.status(JobStatus.LOADING_DATA)
                reader = TenantReader(graph, concurrency=self._settings.graph_max_concurrency)
                loading = LoadPhase(
                    reader=reader,
                    snapshots=SnapshotReader(self._store),
                    staging=self._staging,
                    state=state,
                    backup_chain=backup.chain,
                    context=context,
                    save=save,
                    loaded=comparing.early,
                )
                if not await loading.run():
                    return None
                state.phase = COMPARE
                await save()
            await context.status(JobStatus.IN_PROGRESS)
            if not await comparing.run():
                return None
        state.phase = FINISH
        await save()
        return await self._finish(state)

    def _comparing(
        self,
        context: StepContext,
        graph: GraphClient | None,
        state: DiffState,
        scope: Scope,
        backup: SnapshotRecord,
        other: SnapshotRecord | None,
        save: Callable[[], Awaitable[None]],
        recreated: Recreated,
    ) -> ComparePhase:
        planned = SnapshotExistence(self._store, backup.chain, scope)
        live: ExistenceCheck
        if graph is not None:
            live = GraphExistence(graph, self._settings.graph_max_concurrency)
        else:
            assert other is not None
            live = SnapshotExistence(self._store, other.chain, None)
        return ComparePhase(
            store=self._store,
            reports=self._reports,
            staging=self._staging,
            checker=ReferenceChecker(live, planned),
            state=state,
            backup_chain=backup.chain,
            other_chain=other.chain if other else None,
            context=context,
            save=save,
            recreated=recreated,
        )

    async def canceled(self, context: StepContext) -> Mapping[str, Any]:
        report_id = context.job.id
        await self._staging.remove([report_id])
        summary, _ = await self._reports.summarize(report_id)
        stored = sum(sum(kinds.values()) for kinds in summary.values())
        return {
            "snapshotId": context.payload.get("snapshotId"),
            "compareTo": context.payload.get("compareTo"),
            "summary": summary,
            "changesStored": stored,
            "complete": False,
        }

    async def _load(self, context: StepContext, payload: DifferenceReportPayload) -> DiffState:
        if context.state.get("report_id") == context.job.id:
            return DiffState.from_json(dict(context.state))
        scope = Scope.from_dict(payload.scope, max_ids=self._settings.max_scope_ids)
        backup = await self._store.get(payload.tenant_id, payload.snapshot_id)
        other = (
            await self._store.get(payload.tenant_id, payload.compare_to)
            if payload.compare_to
            else None
        )
        # A recovery may have re-created objects since: the live tenant knows them by
        # their new ids, so a scope naming either id covers both.
        lineage = await self._recoveries.lineage(payload.tenant_id) if other is None else {}
        state = plan_report(context.job.id, widen_scope(scope, lineage), backup, other)
        state.lineage = lineage
        await self._reports.start(
            ReportRecord(
                id=context.job.id,
                tenant_id=payload.tenant_id,
                snapshot_id=backup.id,
                compare_to=other.id if other else None,
                scope=scope.to_dict(),
                created_at=context.job.created_at,
            )
        )
        await context.status(JobStatus.LOADING_DATA)
        warnings = [
            JobWarning(type=task.name, reason=f"not compared: {task.skipped}")
            for task in state.tasks
            if task.skipped
        ]
        skipped = {task.name for task in state.tasks if task.skipped}
        warnings += [
            JobWarning(type=name, reason=reason)
            for name, reason in partial_types(scope, backup, other)
            if name not in skipped
        ]
        state.warnings = [w.model_dump(mode="json", by_alias=True) for w in warnings]
        context.state.clear()
        context.state.update(state.to_json())
        await context.checkpoint()
        await context.warn(warnings)
        return state

    async def _finish(self, state: DiffState) -> Outcome:
        summary, unrecoverable = await self._reports.summarize(state.report_id)
        skipped = {task.name: task.skipped for task in state.tasks if task.skipped is not None}
        changes = sum(sum(kinds.values()) for kinds in summary.values())
        counters = {
            "changes": changes,
            "unrecoverable": unrecoverable,
            "objectsCompared": state.compared,
        }
        record = await self._reports.find(state.report_id)
        if record is not None and not record.complete:
            # Counted once: a redelivered finish finds the record complete.
            for type_name, kinds in summary.items():
                for kind, count in kinds.items():
                    CHANGES_DETECTED.labels(type_name, kind).inc(count)
        await self._reports.complete(
            state.report_id,
            summary=summary,
            completed_at=utcnow(),
            counters=counters,
            skipped_types=skipped,
        )
        await self._staging.remove([state.report_id])
        warned = skipped or state.warnings
        status = JobStatus.COMPLETED_WITH_WARNINGS if warned else JobStatus.COMPLETED
        return Outcome(
            status,
            result={
                "snapshotId": state.snapshot_id,
                "compareTo": state.compare_to,
                "summary": summary,
                "complete": True,
            },
            counters=counters,
            progress=Progress(done=state.compared, total=max(state.compared, state.expected)),
        )
