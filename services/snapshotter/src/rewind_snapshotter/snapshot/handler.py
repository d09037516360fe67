"""The snapshot job, as resumable steps.

1. **Plan** (first step): full or incremental, and how each type is read.
2. **Read** (``Loading data``): every type page by page into staging; a checkpoint per
   page, so a redelivered step resumes after the last page stored.
3. **Seal** (``In progress``): staging folded into the new segment's sorted chunks, one
   bucket of ids at a time, a checkpoint per bucket.
4. **Merkle pass**: the root and counts over the snapshot's whole manifest.
5. **Publish**: the snapshot record, inserted once (a redelivered publish finds it
   there), chained to the previous snapshot's root. Until then nothing the job wrote
   belongs to a snapshot anyone can see: a canceled or failed job leaves only orphans
   for retention to remove.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from rewind_common import metrics
from rewind_common.domain.merkle import chained_root
from rewind_common.jobs.model import JobStatus, Progress, utcnow
from rewind_common.jobs.runner import Outcome, StepContext
from rewind_common.jobs.worker import GraphOpener
from rewind_common.registry import ALL_TYPES
from rewind_common.settings import Settings
from rewind_common.storage.chunk_cache import process_chunk_cache
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.snapshots import SnapshotRecord, SnapshotStore
from rewind_common.tasks import SnapshotPayload
from rewind_common.tenant import TenantReader
from rewind_snapshotter.manifest_pass import manifest_pass
from rewind_snapshotter.snapshot.plan import plan_snapshot
from rewind_snapshotter.snapshot.reading import ReadPhase
from rewind_snapshotter.snapshot.seal_phase import SealPhase
from rewind_snapshotter.snapshot.state import (
    MERKLE,
    PUBLISH,
    READ,
    SEAL,
    SnapshotState,
    chain_of,
)

log = logging.getLogger(__name__)


def snapshot_job_store(mongo: Mongo, settings: Settings) -> SnapshotStore:
    """The store a snapshot job works through. The manifest chunks it reads, and the
    headers of the sealed segments of its chain, stay in the process for its next job:
    the next snapshot of the tenant reads the same chain plus one segment (see
    ``storage.chunk_cache``)."""
    capacity = settings.snapshot_chunk_cache_mb * 1024 * 1024
    return SnapshotStore(mongo, chunk_cache=process_chunk_cache(mongo.db.name, capacity))


class SnapshotHandler:
    def __init__(self, settings: Settings, store: SnapshotStore, open_graph: GraphOpener) -> None:
        self._settings = settings
        self._store = store
        self._open_graph = open_graph

    async def step(self, context: StepContext) -> Outcome | None:
        payload = SnapshotPayload.model_validate(context.payload)
        state, planned = await self._load(context, payload)
        # published snapshots' segments: nothing is added to them any more
        self._store.chunks.trust_sealed(str(segment["id"]) for segment in state.base_chain)

        save = _coalesced_saves(context, state)
        sealing = SealPhase(
            self._store,
            state,
            tenant_id=payload.tenant_id,
            context=context,
            save=save,
            staging_known=planned,
        )

        if state.phase == READ:
            began = time.monotonic()
            await context.status(JobStatus.LOADING_DATA)
            if not await self._read(context, state, payload.tenant_id, sealing, save):
                return None
            _timed(state, "read", began)
            state.phase = SEAL
            await save()
        if state.phase == SEAL:
            began = time.monotonic()
            await context.status(JobStatus.IN_PROGRESS)
            if not await self._seal(state, sealing, save):
                return None
            _timed(state, "sealed", began)
            state.phase = MERKLE
            await save()
        if state.phase == MERKLE:
            began = time.monotonic()
            await context.status(JobStatus.IN_PROGRESS)
            root = await manifest_pass(
                self._store, chain_of(state), state.merkle, context.out_of_time
            )
            if root is None:
                await save()
                return None
            _timed(state, "hashed", began)
            state.manifest_root = root
            state.phase = PUBLISH
            await save()
        return await self._publish(context, state, payload)

    async def canceled(self, context: StepContext) -> Mapping[str, Any]:
        snapshot_id = context.payload.get("snapshotId")
        return {"snapshotId": snapshot_id, "published": False}

    async def _load(
        self, context: StepContext, payload: SnapshotPayload
    ) -> tuple[SnapshotState, bool]:
        """The job's state, from its checkpoint or planned now (True: every write of the
        snapshot so far is this step's)."""
        if context.state.get("snapshot_id") == payload.snapshot_id:
            return SnapshotState.from_json(dict(context.state)), False
        base = await self._store.latest(payload.tenant_id)
        state = plan_snapshot(payload.snapshot_id, payload.mode, base, self._settings)
        state.started_at = utcnow().isoformat()
        context.state.clear()
        context.state.update(state.to_json())
        await context.checkpoint()
        return state, True

    async def _read(
        self,
        context: StepContext,
        state: SnapshotState,
        tenant_id: str,
        sealing: SealPhase,
        save: Callable[[], Awaitable[None]],
    ) -> bool:
        tenant = self._settings.tenant(tenant_id)
        async with self._open_graph(tenant) as graph:
            reader = TenantReader(graph, concurrency=self._settings.graph_max_concurrency)
            phase = ReadPhase(
                self._store, reader, state, sealing, tenant_id=tenant_id, context=context, save=save
            )
            done = await phase.run()
        await save()
        return done

    async def _seal(
        self, state: SnapshotState, sealing: SealPhase, save: Callable[[], Awaitable[None]]
    ) -> bool:
        """Seal the types reading left unsealed."""
        for object_type in ALL_TYPES:
            if not await sealing.seal_type(state.types[object_type.name]):
                return False
        await save()
        return True

    async def _publish(
        self, context: StepContext, state: SnapshotState, payload: SnapshotPayload
    ) -> Outcome:
        assert state.manifest_root is not None
        if state.packs_counted:
            new_versions = sum(p.new_versions for p in state.types.values())
            stored_bytes = sum(p.new_bytes for p in state.types.values())
        else:
            new_versions, stored_bytes = await self._store.new_version_totals(state.snapshot_id)
        merkle = state.merkle
        counts = {t.name: merkle.counts.get(t.name, 0) for t in ALL_TYPES}
        unread = sorted(name for name, p in state.types.items() if p.unread_reason)
        for name in unread:
            counts.pop(name, None)
        status = JobStatus.COMPLETED_WITH_WARNINGS if state.warnings else JobStatus.COMPLETED
        now = utcnow()
        record = SnapshotRecord(
            id=state.snapshot_id,
            tenant_id=payload.tenant_id,
            job_id=context.job.id,
            mode=state.mode,
            status=status.value,
            created_at=datetime.fromisoformat(state.started_at) if state.started_at else now,
            completed_at=now,
            chain=chain_of(state),
            counts=counts,
            deleted_counts=dict(merkle.deleted_counts),
            link_counts=dict(merkle.link_counts),
            entry_count=sum(counts.values()),
            new_versions=new_versions,
            stored_bytes=stored_bytes + state.manifest_bytes,
            manifest_root=state.manifest_root,
            merkle_root=chained_root(state.manifest_root, state.base_root),
            previous_root=state.base_root,
            previous_snapshot_id=state.base_id,
            delta_links={n: p.delta_link for n, p in state.types.items() if p.delta_link},
            warnings=list(state.warnings),
            unread_types=unread,
            unread_deleted_items=sorted(
                name
                for name, p in state.types.items()
                if p.deleted_unread_reason and not p.unread_reason
            ),
        )
        await self._store.put_segment(state.snapshot_id, payload.tenant_id, state.packs, now)
        if await self._store.insert_snapshot(record):
            _measure(record, sum(p.logical_bytes for p in state.types.values()))
        summary = {
            "snapshotId": record.id,
            "mode": record.mode,
            "objects": record.entry_count,
            "newVersions": record.new_versions,
            "storedBytes": record.stored_bytes,
        }
        return Outcome(
            status,
            result=summary,
            counters={k: v for k, v in summary.items() if isinstance(v, int)},
            progress=Progress(done=record.entry_count, total=record.entry_count),
        )


def _coalesced_saves(context: StepContext, state: SnapshotState) -> Callable[[], Awaitable[None]]:
    """The job's checkpoint save, for types read at the same time: one save at a time
    (two in flight could land in the wrong order), and a caller whose changes a save
    begun after its call already wrote does not write them again. Types finishing pages
    together then cost one write, not one each."""
    saving = asyncio.Lock()
    asked = written = 0

    async def save() -> None:
        nonlocal asked, written
        asked += 1
        mine = asked
        async with saving:
            if written >= mine:
                return
            covered = asked  # what every caller so far changed is in this save
            context.state.clear()
            context.state.update(state.to_json())
            await context.checkpoint()
            written = covered

    return save


def _measure(record: SnapshotRecord, logical_bytes: int) -> None:
    """The snapshot's figures for Prometheus (once: a redelivered publish inserts nothing)."""
    tenant = record.tenant_id
    for type_name, count in record.counts.items():
        metrics.SNAPSHOT_OBJECTS.labels(tenant, type_name).set(count)
    for object_type in ALL_TYPES:
        name = object_type.name
        for part, unread in (
            ("objects", record.unread_types),
            ("deletedItems", record.unread_deleted_items),
        ):
            metrics.SNAPSHOT_UNREAD.labels(tenant, name, part).set(1 if name in unread else 0)
    metrics.LAST_SNAPSHOT.labels(tenant).set(record.completed_at.timestamp())
    metrics.SNAPSHOT_STORED_BYTES.labels(tenant).inc(record.stored_bytes)
    metrics.SNAPSHOT_LOGICAL_BYTES.labels(tenant).inc(logical_bytes)
    metrics.SNAPSHOT_NEW_VERSIONS.labels(tenant).inc(record.new_versions)


def _timed(state: SnapshotState, what: str, began: float) -> None:
    """Log how long the last stretch of a phase took (its last step when it took several)."""
    log.info("snapshot %s %s in %.2fs", state.snapshot_id, what, time.monotonic() - began)
