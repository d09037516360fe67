"""The load phase (``Loading data``): the live state of every type in scope, staged.

- Whole types are read the way the snapshotter reads them, a few types at a time:
  types with a delta query through its first round (bodies in the same shape as the
  backup's, so an unchanged object has the same version hash and is compared without
  reading its body), then the recycle bin, then the links the delta does not track
  (owners of applications and service principals) by listing; other types are listed
  with their links (``TenantReader.pages``), then the recycle bin.
- The next page is read while the current one is staged, and pages are staged a few
  thousand records at a time (the local MongoDB-compatible server pays per document and
  round trip far more than per byte). The checkpoint follows each write, so a
  redelivered step reads again only the pages of a write it lost.
- Listed ids are read by id (``TenantReader.get``: live, then the recycle bin, then their
  links, 20 to a ``$batch``), a chunk at a time: O(N) requests for N ids whatever the
  tenant's size. App role assignments are read under their resource service principal,
  which the backup names; an assignment the backup lacks is looked for under the
  principal its id begins with.

A type the credentials cannot read (403) is skipped with a warning rather than reported
as entirely deleted. A type loaded is handed on at once (to be compared while the others
are still read).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

from rewind_common.domain.records import LinkValue, ObjectState, link_value
from rewind_common.jobs.model import JobWarning, utcnow
from rewind_common.jobs.runner import StepContext
from rewind_common.registry import Listing, get_type
from rewind_common.storage.manifest import Segment
from rewind_common.storage.report_staging import (
    ReportStaging,
    StagingBatch,
    links_record,
    staged_record,
)
from rewind_common.storage.snapshot_reader import SnapshotReader
from rewind_common.tenant import DeltaItem, TenantReader, TypeNotReadable
from rewind_common.tenant.plans import links_not_in_delta
from rewind_common.tenant.prefetch import prefetched
from rewind_differ.state import DiffState, TypeTask

log = logging.getLogger(__name__)

#: Ids read per unit of a scoped type.
ID_CHUNK = 200
#: Stages of a whole type: its bodies (a delta round or a listing), the recycle bin
#: after a delta round, then the links the delta does not track.
MAIN = "main"
DELETED = "deleted"
LINKS = "links"
#: Whole types read at the same time.
TYPE_CONCURRENCY = 4
#: Records, and their encoded bytes, gathered before they are staged.
FLUSH_RECORDS = 2500
FLUSH_BYTES = 2_000_000

Record = dict[str, Any]


def read_by_delta(type_name: str) -> bool:
    """Whether a whole type is read through its delta query, as the backup was."""
    return get_type(type_name).has_delta


def _first_round_state(item: DeltaItem) -> ObjectState:
    """A first-round delta item: its body, and its links as reported so far (every
    current target comes as an addition; a group's may continue on later pages)."""
    assert item.state is not None
    object_type = get_type(item.type)
    links: dict[str, LinkValue] = {}
    for name, ops in item.link_ops.items():
        many = object_type.link(name).many
        links[name] = link_value(list(ops.added), many=True) if many else (ops.added or (None,))[-1]
    return replace(item.state, links=links)


_PROGRESS_INTERVAL = 1.0


def _longest_first(task: TypeTask) -> tuple[int, int]:
    """Types whose reads take longest start first, so they end no later than the rest:
    those read under each parent (a request per parent), then by how many objects and
    links there are to read."""
    object_type = get_type(task.name)
    per_parent = object_type.listing is Listing.PER_PARENT
    return (0 if per_parent else 1, -task.count * (1 + len(object_type.links)))


class LoadPhase:
    def __init__(
        self,
        *,
        reader: TenantReader,
        snapshots: SnapshotReader,
        staging: ReportStaging,
        state: DiffState,
        backup_chain: list[Segment],
        context: StepContext,
        save: Callable[[], Awaitable[None]],
        loaded: Callable[[TypeTask], Awaitable[None]] | None = None,
    ) -> None:
        self._reader = reader
        self._snapshots = snapshots
        self._staging = staging
        self._state = state
        self._backup_chain = backup_chain
        self._context = context
        self._save = save
        self._loaded = loaded
        self._writes = 0
        self._last_progress = 0.0

    async def run(self) -> bool:
        """Load until every type is staged (True) or the step's time is up (False)."""
        pending = [task for task in self._state.tasks if not (task.loaded or task.skipped)]
        semaphore = asyncio.Semaphore(TYPE_CONCURRENCY)

        async def one(task: TypeTask) -> None:
            async with semaphore:
                # every step stages something, however short its time
                if self._writes and self._context.out_of_time():
                    return
                try:
                    done = await (self._whole(task) if task.whole else self._ids(task))
                except TypeNotReadable as exc:
                    await self._skip(task, exc.message)
                    return
                if done and self._loaded is not None:
                    await self._loaded(task)

        async with asyncio.TaskGroup() as group:
            for task in sorted(pending, key=_longest_first):
                group.create_task(one(task))
        return all(task.loaded or task.skipped for task in self._state.tasks)

    async def _whole(self, task: TypeTask) -> bool:
        delta = read_by_delta(task.name)
        while not task.loaded:
            if task.stage == MAIN and delta:
                pages = self._delta_pages(task)
            elif task.stage == MAIN:
                pages = self._listed_pages(task)
            elif task.stage == DELETED:
                pages = self._deleted_pages(task)
            else:
                pages = self._link_pages(task)
            if not await self._stage_pages(task, pages):
                return False
            untracked = delta and bool(links_not_in_delta(task.name))
            if task.stage == MAIN and delta:
                task.stage = DELETED
            elif task.stage != LINKS and untracked:
                task.stage = LINKS
            else:
                task.loaded = True
            task.cursor = None
            await self._unit_done()
            if not task.loaded and self._context.out_of_time():
                return False
        return True

    # -- what each stage reads, as (records, where the read resumes after them) --------

    async def _delta_pages(self, task: TypeTask) -> AsyncIterator[tuple[list[Record], Any]]:
        async for delta in self._reader.delta(task.name, task.cursor):
            records = [
                staged_record(_first_round_state(item), partial_links=True)
                for item in delta.items
                if item.state
            ]
            yield records, delta.next_link
            if delta.next_link is None:
                return

    async def _listed_pages(self, task: TypeTask) -> AsyncIterator[tuple[list[Record], Any]]:
        async for page in self._reader.pages(task.name, task.cursor):
            yield [staged_record(state) for state in page.states], page.cursor
            if page.cursor is None:
                return

    async def _deleted_pages(self, task: TypeTask) -> AsyncIterator[tuple[list[Record], Any]]:
        async for page in self._reader.deleted_pages(task.name, task.cursor):
            following = (page.cursor or {}).get("next")
            yield [staged_record(state) for state in page.states], following
            if following is None:
                return

    async def _link_pages(self, task: TypeTask) -> AsyncIterator[tuple[list[Record], Any]]:
        link = links_not_in_delta(task.name)[0].name
        async for targets, following in self._reader.link_pages(task.name, link, task.cursor):
            yield [links_record(i, {link: ids}) for i, ids in targets.items()], following
            if following is None:
                return

    async def _stage_pages(
        self, task: TypeTask, pages: AsyncIterator[tuple[list[Record], Any]]
    ) -> bool:
        """Stage a stage's pages to its end (True) or until the step's time is up
        (False), a batch of pages per write."""
        batch = StagingBatch(task.bucket_width)
        async with contextlib.aclosing(prefetched(pages)) as ahead:
            async for records, following in ahead:
                for record in records:
                    batch.add(record)
                del records
                out_of_time = self._context.out_of_time()
                if following is None:
                    await self._write(task, batch, None, last=True)
                    return True
                if out_of_time or batch.records >= FLUSH_RECORDS or batch.size >= FLUSH_BYTES:
                    await self._write(task, batch, following)
                    batch = StagingBatch(task.bucket_width)
                    if out_of_time:
                        return False
                else:
                    await self._context.raise_if_canceled()
        await self._write(task, batch, None, last=True)
        return True

    async def _write(
        self, task: TypeTask, batch: StagingBatch, following: Any, *, last: bool = False
    ) -> None:
        """Stage a batch, then checkpoint where the read resumes after it: what is
        staged is what the checkpoint may claim. The last write of a stage is
        checkpointed with the stage that follows."""
        if batch:
            await self._staging.write_batch(
                self._state.report_id, task.name, task.revision, batch, at=utcnow()
            )
            task.revision += 1
            self._state.loaded += batch.objects
        self._writes += 1
        if not last:
            task.cursor = following
            await self._unit_done()

    async def _ids(self, task: TypeTask) -> bool:
        assert task.ids is not None
        start = int(task.cursor or 0)
        while start < len(task.ids):
            chunk = task.ids[start : start + ID_CHUNK]
            parents = await self._parents(task.name, chunk)
            found = await self._reader.get(task.name, chunk, parents=parents)
            batch = StagingBatch(task.bucket_width)
            for object_id in chunk:
                if object_id in found:
                    batch.add(staged_record(found[object_id]))
            start += len(chunk)
            await self._write(task, batch, start, last=start >= len(task.ids))
            if start < len(task.ids) and self._context.out_of_time():
                return False
        task.loaded = True
        await self._unit_done()
        return True

    async def _parents(self, type_name: str, ids: list[str]) -> dict[str, str]:
        """Where a per-parent type's objects live, as the backup says."""
        object_type = get_type(type_name)
        if object_type.listing is not Listing.PER_PARENT:
            return {}
        backed_up = await self._snapshots.get(self._backup_chain, type_name, ids)
        return {
            object_id: str(state.body["resourceId"])
            for object_id, state in backed_up.items()
            if isinstance(state.body.get("resourceId"), str)
        }

    async def _unit_done(self) -> None:
        await self._save()
        await self._context.raise_if_canceled()
        now = time.monotonic()
        if now - self._last_progress >= _PROGRESS_INTERVAL:
            self._last_progress = now
            done = self._state.loaded
            await self._context.progress(done, max(done, self._state.expected))

    async def _skip(self, task: TypeTask, reason: str) -> None:
        log.warning("report %s skips %s: %s", self._state.report_id, task.name, reason)
        task.skipped = reason
        warning = JobWarning(type=task.name, reason=f"not compared: {reason}")
        self._state.warnings.append(warning.model_dump(mode="json", by_alias=True))
        await self._save()
        await self._context.warn([warning])
