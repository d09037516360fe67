"""The recovery job, as resumable steps (``rewind_common.jobs.runner``).

1. **Plan** (``Loading data``): the plan against the live tenant, stored with the
   recovery; a dry run ends here, ``Completed``, its actions ``pending``. Otherwise the
   pre-recovery snapshot of every object the plan writes is taken before anything is.
2. **Apply** (``In progress``): the executor, for as long as a step lasts; the next step
   carries on from the stored outcomes.
3. **Verify**: the covered objects compared with the backup again; the result is
   stored with the recovery, and the job ends with the status its outcomes call for.

The checkpoint holds only the phase and the pre-recovery snapshot's id: everything else
a resumed step needs is in the recovery's stored actions.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

from rewind_common.domain.scope import Scope
from rewind_common.errors import JobCanceled
from rewind_common.graph.client import GraphClient
from rewind_common.ids import new_id
from rewind_common.jobs.model import JobStatus, JobWarning, Progress
from rewind_common.jobs.runner import Outcome, StepContext
from rewind_common.jobs.worker import GraphOpener
from rewind_common.metrics import RECOVERY_ACTIONS
from rewind_common.settings import Settings, TenantConnection
from rewind_common.storage.pre_recovery import PreRecoverySnapshots
from rewind_common.storage.recoveries import RecoveryStore, id_map_of, summary_of
from rewind_common.storage.snapshot_reader import SnapshotReader
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tasks import RecoveryPayload
from rewind_common.tenant import TenantReader
from rewind_recoverer import executor as ex
from rewind_recoverer.lookup import LiveLookup
from rewind_recoverer.outcome import final_status
from rewind_recoverer.planning import Planner, ReportChanges, plan_warnings
from rewind_recoverer.sending import Sender
from rewind_recoverer.source import open_source
from rewind_recoverer.verify import verify

PLAN, APPLY, VERIFY = "plan", "apply", "verify"
#: Progress is reported at most this often (each report is a status message).
PROGRESS_INTERVAL_SECONDS = 0.5
#: How many applied actions a canceled recovery lists in its result.
LISTED_APPLIED = 200


class RecoveryHandler:
    def __init__(
        self,
        settings: Settings,
        store: SnapshotStore,
        recoveries: RecoveryStore,
        pre_recovery: PreRecoverySnapshots,
        open_graph: GraphOpener,
        report_changes: ReportChanges | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._recoveries = recoveries
        self._pre = pre_recovery
        self._open_graph = open_graph
        self._planner = Planner(settings, store, recoveries, pre_recovery, report_changes)

    async def step(self, context: StepContext) -> Outcome | None:
        payload = RecoveryPayload.model_validate(context.payload)
        tenant = self._settings.tenant(payload.tenant_id)
        async with self._open_graph(tenant) as graph:
            reader = TenantReader(graph, concurrency=self._settings.graph_max_concurrency)
            if context.state.get("phase", PLAN) == PLAN:
                await context.status(JobStatus.LOADING_DATA)
                ended = await self._plan(context, payload, tenant, graph, reader)
                if ended is not None:
                    return ended
            if context.state["phase"] == APPLY:
                await context.status(JobStatus.IN_PROGRESS)
                stop = await self._apply(context, graph, reader)
                if stop is ex.Stop.CANCELED:
                    raise JobCanceled(f"job {context.job.id} was canceled")
                if stop is ex.Stop.OUT_OF_TIME:
                    return None
                await self._save(context, phase=VERIFY)
            return await self._verify(context, reader)

    async def canceled(self, context: StepContext) -> Mapping[str, Any]:
        """Actions not sent are skipped; those already applied stay applied and are
        listed."""
        documents = await self._recoveries.actions(context.job.id)
        pending = [
            (int(d["seq"]), {"outcome": "skipped", "error": _CANCELED, "after": None})
            for d in documents
            if d.get("outcome") == "pending"
        ]
        await self._recoveries.record_outcomes(context.job.id, pending)
        applied = [d for d in documents if d.get("outcome") == "applied"]
        return {
            "canceled": True,
            "applied": len(applied),
            "appliedActions": [str(d["id"]) for d in applied[:LISTED_APPLIED]],
            "notSent": len(pending),
        }

    # -- phases -------------------------------------------------------------------------

    async def _save(self, context: StepContext, **values: Any) -> None:
        context.state.update(values)
        await context.checkpoint()

    async def _plan(
        self,
        context: StepContext,
        payload: RecoveryPayload,
        tenant: TenantConnection,
        graph: GraphClient,
        reader: TenantReader,
    ) -> Outcome | None:
        planned = await self._planner.plan(payload, tenant, graph, reader)
        await self._planner.store(context.job.id, tenant.tenant_id, planned)
        await context.warn(
            [JobWarning(type=t, object_id=o, reason=r) for t, o, r in plan_warnings(planned)]
        )
        actions = planned.plan.actions
        done = sum(1 for a in actions if not a.runnable)
        await context.progress(done, len(actions))
        result = {
            "snapshotId": planned.source.snapshot_id,
            "dryRun": payload.dry_run,
            "summary": planned.plan.summary(),
            "writes": planned.plan.writes,
            "actions": len(actions),
        }
        runnable = int(planned.record["runnable"])
        if payload.dry_run or runnable == 0:
            outcomes = planned.plan.outcome_counts()
            status, error = final_status(outcomes, runnable=0, warned=bool(planned.plan.warnings))
            if payload.dry_run:
                # A dry run did what it was asked: the plan, warnings included, is its result.
                status, error = JobStatus.COMPLETED, None
            return Outcome(
                status,
                result={**result, "outcomes": outcomes},
                counters={"actions": len(actions), "writes": planned.plan.writes},
                error=error,
                progress=Progress(done=done if not payload.dry_run else 0, total=len(actions)),
            )
        snapshot_id = str(context.state.setdefault("preRecoverySnapshotId", new_id()))
        snapshot = await self._planner.pre_recovery_snapshot(
            snapshot_id,
            context.job.id,
            tenant.tenant_id,
            planned,
            context.checkpoint,
        )
        for action in actions:
            if not action.runnable:
                RECOVERY_ACTIONS.labels(action.action.value, action.outcome.value).inc()
        await context.reporter.send(result={**result, "preRecoverySnapshotId": snapshot.id})
        await self._save(context, phase=APPLY)
        return None

    async def _apply(
        self, context: StepContext, graph: GraphClient, reader: TenantReader
    ) -> ex.Stop | None:
        last = 0.0
        sent_warnings = 0

        async def should_stop() -> ex.Stop | None:
            if context.out_of_time():
                return ex.Stop.OUT_OF_TIME
            try:
                await context.raise_if_canceled()
            except JobCanceled:
                return ex.Stop.CANCELED
            return None

        async def report(progress: ex.Progress, *, force: bool = False) -> None:
            nonlocal last, sent_warnings
            now = time.monotonic()
            if not force and now - last < PROGRESS_INTERVAL_SECONDS:
                return
            last = now
            fresh = progress.warnings[sent_warnings:]
            sent_warnings = len(progress.warnings)
            await context.reporter.send(
                progress=Progress(done=progress.done, total=progress.total),
                warnings=[JobWarning(type=t, object_id=o, reason=r) for t, o, r in fresh],
            )

        executor = ex.Executor(
            self._recoveries,
            context.job.id,
            sender=Sender(graph),
            lookup=LiveLookup(reader, graph),
            graph_base_url=graph.base_url,
            concurrency=self._settings.graph_max_concurrency,
            should_stop=should_stop,
            on_progress=report,
        )
        stop = await executor.run()
        await report(executor.progress, force=True)
        return stop

    async def _verify(self, context: StepContext, reader: TenantReader) -> Outcome:
        record = await self._recoveries.record(context.job.id) or {}
        documents = await self._recoveries.actions(context.job.id)
        id_map = id_map_of(documents)
        source = await open_source(
            context.job.tenant_id,
            str(record["snapshotId"]),
            pre_recovery=self._pre,
        )
        own = set(id_map.entries)
        lineage = {
            old: new
            for old, new in (await self._recoveries.lineage(context.job.tenant_id)).items()
            if old not in own
        }
        verification = await verify(
            documents,
            source.chain,
            # the scope as planned, already widened and checked: no limit on its ids here
            scope=Scope.from_dict(record.get("scope"), max_ids=sys.maxsize),
            snapshots=SnapshotReader(self._store),
            reader=reader,
            id_map=id_map,
            lineage=lineage,
        )
        await self._recoveries.update_record(
            context.job.id, {"verification": verification, "idMap": id_map.to_dict()}
        )
        summary = summary_of(documents)
        outcomes = summary["outcomes"]
        warnings: list[JobWarning] = []
        if not verification["clean"]:
            warnings.append(
                JobWarning(
                    reason=f"verification found {verification['unexpected']} object(s) still "
                    "differing from the backup in ways the recovery did not report; see "
                    "the recovery's verification"
                )
            )
            await context.warn(warnings)
        has_warnings = bool(context.job.warnings) or bool(warnings) or _has_warnings(documents)
        status, error = final_status(
            outcomes,
            runnable=int(record.get("runnable", 0)),
            warned=has_warnings,
            verified_clean=bool(verification["clean"]),
        )
        return Outcome(
            status,
            result={
                "snapshotId": record.get("snapshotId"),
                "summary": summary["types"],
                "outcomes": outcomes,
                "idMap": id_map.to_dict(),
                "preRecoverySnapshotId": record.get("preRecoverySnapshotId"),
                "verification": {
                    k: verification[k] for k in ("checked", "clean", "unexpected", "expected")
                },
            },
            counters={name: int(count) for name, count in outcomes.items()},
            error=error,
            progress=Progress(done=len(documents), total=len(documents)),
        )


_CANCELED = {"code": "canceled", "message": "the recovery was canceled before this was sent"}


def _has_warnings(documents: list[dict[str, Any]]) -> bool:
    return any(d.get("warnings") for d in documents)
