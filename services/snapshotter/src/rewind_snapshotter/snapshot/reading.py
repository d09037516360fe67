"""The read phase: every type read page by page into staging, a few types at a time,
each page checkpointed as soon as it is stored.

How a type is read (``state.TypeProgress.method``) and its stages:

- ``deltaFirst``: the first round of its delta query (every current object, links as
  additions), then the recycle bin, then links delta does not track (owners of
  applications and service principals) by listing;
- ``deltaChanges``: a round from the previous snapshot's deltaLink (soft-deleted objects
  read from the recycle bin as they come), then the untracked links; an expired link
  starts the type again as ``deltaFirst``;
- ``pages``: a listing with links, then the recycle bin. A type whose delta query is
  not read whole (app role assignments) first takes a ``$deltatoken=latest`` link, so
  the next snapshot reads only what changed from before the listing.

A 403 makes the type unread: the snapshot completes with a warning naming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from rewind_common.errors import GraphError
from rewind_common.jobs.model import JobWarning
from rewind_common.jobs.runner import StepContext
from rewind_common.registry import get_type
from rewind_common.storage.manifest import Segment
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tenant import (
    DeletedItemsNotReadable,
    DeltaExpired,
    TenantReader,
    TypeNotReadable,
)
from rewind_common.tenant.plans import links_not_in_delta
from rewind_common.tenant.prefetch import prefetched
from rewind_snapshotter.manifest_pass import manifest_pass
from rewind_snapshotter.snapshot.plan import whole_read
from rewind_snapshotter.snapshot.records import Batch, PageWriter
from rewind_snapshotter.snapshot.seal_phase import SealPhase
from rewind_snapshotter.snapshot.state import (
    DELETED,
    DELTA_CHANGES,
    DELTA_FIRST,
    DONE,
    MAIN,
    OWNERS,
    PAGES,
    UNREAD,
    SnapshotState,
    TypeProgress,
    chain_of,
)

log = logging.getLogger(__name__)

#: Types read whole at the same time.
TYPE_CONCURRENCY = 4
_PROGRESS_INTERVAL = 1.0
#: How often reading looks for a cancel: a page takes milliseconds, and a look costs a
#: Redis round trip (a few percent of an incremental snapshot when made every page).
CANCEL_CHECK_SECONDS = 0.25


class ReadPhase:
    def __init__(
        self,
        store: SnapshotStore,
        reader: TenantReader,
        state: SnapshotState,
        sealing: SealPhase,
        *,
        tenant_id: str,
        context: StepContext,
        save: Callable[[], Awaitable[None]],
    ) -> None:
        self._store = store
        self._reader = reader
        self._state = state
        self._tenant_id = tenant_id
        self._context = context
        self._save = save
        self._base_chain = [Segment.from_document(s) for s in state.base_chain]
        self._last_progress = 0.0
        self._pages = 0
        self._sealing = sealing
        self._hashing = asyncio.Lock()

    async def run(self) -> bool:
        """Read until every type is done (True) or the step's time is up (False). A
        type is sealed as soon as its read is over, while others are still read."""
        pending = sorted(
            (p for p in self._state.types.values() if p.stage not in (DONE, UNREAD)),
            key=_longest_first,
        )
        whole_reads = asyncio.Semaphore(TYPE_CONCURRENCY)

        async def one(progress: TypeProgress) -> None:
            # A whole read holds a slot: its batches are most of what the worker holds.
            # A read of changes starts at once: it is short, and the Merkle pass, which
            # goes in registry order, hashes the unchanged users while others are read.
            async with whole_reads if progress.full else contextlib.nullcontext():
                began = time.monotonic()
                # every step stores at least one page, however short its time
                if self._pages == 0 or not self._context.out_of_time():
                    await self._read_type(progress)
                log.debug("%s read for %.2fs", progress.name, time.monotonic() - began)
                if progress.read_done and not self._context.out_of_time():
                    await self._sealing.seal_type(progress)
                    await self._hash_sealed()

        async with asyncio.TaskGroup() as group:
            for progress in pending:
                group.create_task(one(progress))
        return all(p.stage in (DONE, UNREAD) for p in self._state.types.values())

    async def _hash_sealed(self) -> None:
        """Move the Merkle pass over the types sealed so far, in registry order, while
        other types are still read (one pass at a time)."""
        if self._hashing.locked():
            return
        async with self._hashing:
            types = self._state.types
            await manifest_pass(
                self._store,
                chain_of(self._state),
                self._state.merkle,
                self._context.out_of_time,
                ready=lambda name: types[name].sealed,
            )

    async def _read_type(self, progress: TypeProgress) -> None:
        restarted = False
        while progress.stage not in (DONE, UNREAD):
            try:
                finished = await self._stage(progress)
            except DeletedItemsNotReadable as exc:
                if progress.method != DELTA_CHANGES:
                    await self._unread(progress, exc)
                    return
                # Objects soft-deleted since are not in the changes; read the type whole,
                # which leaves out its recycle bin and says so.
                log.info("%s; reading %s in full", exc.message, progress.name)
                progress.restart(whole_read(progress.name))
                await self._save()
                continue
            except TypeNotReadable as exc:
                if progress.method == DELTA_CHANGES and whole_read(progress.name) == PAGES:
                    # The listing needs other permissions than the delta query: try it.
                    log.info("%s; listing %s instead", exc.message, progress.name)
                    progress.restart(PAGES)
                    await self._save()
                    continue
                await self._unread(progress, exc)
                return
            except DeltaExpired as exc:
                log.info("%s; reading %s in full", exc.message, progress.name)
                progress.restart(whole_read(progress.name))
                await self._save()
                continue
            except GraphError:
                # A nextLink saved by an earlier step may have expired: start the type
                # again once, then let the error fail the job.
                if restarted or progress.cursor is None or progress.method == DELTA_CHANGES:
                    raise
                restarted = True
                progress.restart(DELTA_FIRST if progress.method != PAGES else PAGES)
                await self._save()
                continue
            if not finished:
                return

    async def _stage(self, progress: TypeProgress) -> bool:
        """Read the current stage to its end (True) or until time is up (False)."""
        writer = PageWriter(
            self._store,
            tenant_id=self._tenant_id,
            segment=self._state.snapshot_id,
            base_chain=self._base_chain,
            progress=progress,
        )
        reader = self._reader
        name = progress.name
        if progress.method == PAGES and progress.stage == MAIN and progress.cursor is None:
            await self._track_from_now(progress)
        pages: AsyncIterator[tuple[Any, Any]]
        if progress.stage == MAIN and progress.method == PAGES:
            pages = _pairs(reader.pages(name, progress.cursor), lambda p: p.cursor)
        elif progress.stage == MAIN:
            pages = _pairs(reader.delta(name, progress.cursor), lambda p: p)
        elif progress.stage == DELETED:
            pages = _pairs(
                reader.deleted_pages(name, progress.cursor),
                lambda p: (p.cursor or {}).get("next"),
            )
        else:
            link = links_not_in_delta(name)[0].name
            pages = _pairs(reader.link_pages(name, link, progress.cursor), lambda p: p[1])
        cursor: Any = progress.cursor
        delta_link = progress.delta_link
        in_flight: asyncio.Task[None] | None = None

        async def stored(batch: Batch | None, at: Any, link: str | None) -> None:
            if batch is not None:
                await writer.store(batch)
            progress.cursor, progress.delta_link = at, link
            await self._stored()

        try:
            async for page, position in prefetched(pages):
                if progress.stage == MAIN and progress.method == PAGES:
                    await writer.states(page.states, with_links=True)
                    cursor = position
                elif progress.stage == MAIN:
                    first = progress.method == DELTA_FIRST
                    await writer.delta(page.items, reader, first_round=first)
                    cursor = page.next_link
                    delta_link = page.delta_link or delta_link
                elif progress.stage == DELETED:
                    await writer.states(page.states, with_links=False)
                    cursor = position
                else:
                    targets, following = page
                    await writer.links(links_not_in_delta(name)[0].name, targets)
                    cursor = following
                last = cursor is None
                out_of_time = self._context.out_of_time()
                if last or out_of_time:
                    # What is stored is what the checkpoint may claim.
                    if in_flight is not None:
                        await in_flight
                        in_flight = None
                    await writer.flush()
                    progress.cursor, progress.delta_link = cursor, delta_link
                    if last:
                        self._advance(progress)
                    await self._stored()
                    return last
                if writer.full:
                    # Store this batch while the next pages are read; one at a time.
                    if in_flight is not None:
                        await in_flight
                    in_flight = asyncio.create_task(stored(writer.detach(), cursor, delta_link))
                await self._context.raise_if_canceled(unless_checked_within=CANCEL_CHECK_SECONDS)
            if in_flight is not None:
                await in_flight
                in_flight = None
        except DeletedItemsNotReadable as exc:
            if not _lists_deleted(progress):
                raise  # a read of changes asked the recycle bin for some objects
            # What was read is kept: the live objects are the backup's point.
            if in_flight is not None:
                await in_flight
                in_flight = None
            await self._without_deleted(progress, exc)
        finally:
            if in_flight is not None and not in_flight.done():
                in_flight.cancel()
        await writer.flush()
        progress.delta_link = delta_link
        self._advance(progress)
        await self._stored()
        return True

    async def _track_from_now(self, progress: TypeProgress) -> None:
        """Before a listing of a type whose changes a delta query tracks: a deltaLink
        from now, so what changes while the listing runs comes again next time."""
        if not get_type(progress.name).tracks_changes or progress.delta_link is not None:
            return
        try:
            progress.delta_link = await self._reader.latest_delta_link(progress.name)
        except TypeNotReadable as exc:
            # Untracked, the type is listed whole again next time: nothing is missed.
            log.info("%s; %s is listed without tracking its changes", exc.message, progress.name)
            return
        await self._save()

    def _advance(self, progress: TypeProgress) -> None:
        """Move a type to its next stage (its cursor starts afresh)."""
        progress.cursor = None
        untracked = bool(links_not_in_delta(progress.name)) and progress.method != PAGES
        if progress.stage == MAIN and progress.method == DELTA_FIRST:
            progress.stage = DELETED
        elif progress.stage in (MAIN, DELETED) and untracked:
            progress.stage = OWNERS
        else:
            progress.stage = DONE

    async def _stored(self) -> None:
        """Checkpoint what was just stored, then look for a cancel and report progress."""
        self._pages += 1
        await self._save()
        await self._context.raise_if_canceled(unless_checked_within=CANCEL_CHECK_SECONDS)
        now = time.monotonic()
        if now - self._last_progress >= _PROGRESS_INTERVAL:
            self._last_progress = now
            done = self._state.objects_read
            await self._context.progress(done, max(done, self._state.expected_objects))

    async def _without_deleted(self, progress: TypeProgress, exc: DeletedItemsNotReadable) -> None:
        """The type's recycle bin is left out of this snapshot; a warning says why (the
        next snapshot reads the type whole again, its recycle bin included)."""
        if progress.deleted_unread_reason is not None:
            return  # said already, by a step that stopped before moving on
        progress.deleted_unread_reason = exc.message
        await self._warn(progress, exc.message)

    async def _unread(self, progress: TypeProgress, exc: TypeNotReadable) -> None:
        """Nothing of the type goes into this snapshot; a warning says why."""
        progress.attempt += 1  # records of the failed attempt are ignored at sealing
        progress.stage = UNREAD
        progress.full = True
        progress.cursor = None
        progress.delta_link = None
        progress.unread_reason = exc.message
        await self._warn(progress, exc.message)

    async def _warn(self, progress: TypeProgress, reason: str) -> None:
        """A warning about the type, kept with the snapshot and sent with the job."""
        warning = JobWarning(type=progress.name, reason=reason)
        self._state.warnings.append(warning.model_dump(mode="json", by_alias=True))
        await self._save()
        await self._context.warn([warning])


#: Types whose reads take longest, first: they start first and finish no later than the
#: rest. Whole reads of users and groups dwarf everything; otherwise what Graph cannot
#: track (app role assignments under each service principal, owners of applications and
#: service principals) costs the most.
_SLOWEST = ("user", "group", "appRoleAssignment", "servicePrincipal", "application")


def _lists_deleted(progress: TypeProgress) -> bool:
    """Whether the stage lists the type's recycle bin (a listing reads it after the
    live objects)."""
    return progress.stage == DELETED or (progress.stage == MAIN and progress.method == PAGES)


def _longest_first(progress: TypeProgress) -> tuple[int, int]:
    rank = _SLOWEST.index(progress.name) if progress.name in _SLOWEST else len(_SLOWEST)
    return (0 if progress.full or rank > 1 else 1, rank)


async def _pairs(
    source: AsyncIterator[Any], position: Callable[[Any], Any]
) -> AsyncIterator[tuple[Any, Any]]:
    async for page in source:
        yield page, position(page)
