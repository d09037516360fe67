"""The load phase (``Loading data``): the live state of every type in scope, staged.

- A whole type is read once, a page at a time, each page staged and checkpointed.
  Users and groups, whose links Graph's delta query tracks, are read as the snapshotter
  reads them: the first round of their delta query (bodies in the same shape as the
  backup's, so an unchanged object has the same version hash and is compared without
  reading its body), then the recycle bin. Other types are listed with their links
  (``TenantReader.pages``), then the recycle bin.
- Listed ids are read by id (``TenantReader.get``: live, then the recycle bin, then their
  links, 20 to a ``$batch``), a chunk at a time: O(N) requests for N ids whatever the
  tenant's size. App role assignments are read under their resource service principal,
  which the backup names; an assignment the backup lacks has no known parent and makes
  the read look under every service principal (Graph has no other path to it).

A type the credentials cannot read (403) is skipped with a warning rather than reported
as entirely deleted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from rewind_common.domain.records import LinkValue, ObjectState, link_value
from rewind_common.jobs.model import JobWarning, utcnow
from rewind_common.jobs.runner import StepContext
from rewind_common.registry import Listing, get_type
from rewind_common.storage.manifest import Segment
from rewind_common.storage.report_staging import ReportStaging
from rewind_common.storage.snapshot_reader import SnapshotReader
from rewind_common.tenant import DeltaItem, TenantReader, TypeNotReadable
from rewind_common.tenant.plans import links_not_in_delta
from rewind_differ.state import DiffState, TypeTask

log = logging.getLogger(__name__)

#: Ids read per unit of a scoped type.
ID_CHUNK = 200
#: Stages of a whole type read through delta.
MAIN = "main"
DELETED = "deleted"


def read_by_delta(type_name: str) -> bool:
    """Whether a type is read through its delta query: it has one, and it tracks every
    link of the type (users' manager, groups' members and owners)."""
    return get_type(type_name).has_delta and not links_not_in_delta(type_name)


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
    ) -> None:
        self._reader = reader
        self._snapshots = snapshots
        self._staging = staging
        self._state = state
        self._backup_chain = backup_chain
        self._context = context
        self._save = save
        self._last_progress = 0.0

    async def run(self) -> bool:
        """Load until every type is staged (True) or the step's time is up (False)."""
        for task in self._state.tasks:
            if task.loaded or task.skipped:
                continue
            try:
                done = await (self._whole(task) if task.whole else self._ids(task))
            except TypeNotReadable as exc:
                await self._skip(task, exc.message)
                continue
            if not done:
                return False
        return True

    async def _whole(self, task: TypeTask) -> bool:
        if not read_by_delta(task.name):
            return await self._listed(task)
        if task.stage == MAIN:
            async for delta in self._reader.delta(task.name, task.cursor):
                states = [_first_round_state(item) for item in delta.items if item.state]
                await self._stage(task, states, partial_links=True)
                task.cursor = delta.next_link
                if delta.next_link is None:
                    break
                await self._unit_done()
                if self._context.out_of_time():
                    return False
            task.stage, task.cursor = DELETED, None
            await self._unit_done()
        async for page in self._reader.deleted_pages(task.name, task.cursor):
            await self._stage(task, page.states)
            task.cursor = (page.cursor or {}).get("next")
            if task.cursor is None:
                break
            await self._unit_done()
            if self._context.out_of_time():
                return False
        task.loaded = True
        task.cursor = None
        await self._unit_done()
        return True

    async def _listed(self, task: TypeTask) -> bool:
        async for page in self._reader.pages(task.name, task.cursor):
            await self._stage(task, page.states)
            task.cursor = page.cursor
            if page.cursor is None:
                break
            await self._unit_done()
            if self._context.out_of_time():
                return False
        task.loaded = True
        task.cursor = None
        await self._unit_done()
        return True

    async def _ids(self, task: TypeTask) -> bool:
        assert task.ids is not None
        start = int(task.cursor or 0)
        while start < len(task.ids):
            chunk = task.ids[start : start + ID_CHUNK]
            parents = await self._parents(task.name, chunk)
            found = await self._reader.get(task.name, chunk, parents=parents)
            await self._stage(task, [found[i] for i in chunk if i in found])
            start += len(chunk)
            task.cursor = start
            await self._unit_done()
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

    async def _stage(
        self, task: TypeTask, states: Sequence[ObjectState], *, partial_links: bool = False
    ) -> None:
        await self._staging.write(
            self._state.report_id,
            task.name,
            task.revision,
            states,
            at=utcnow(),
            partial_links=partial_links,
            width=task.bucket_width,
        )
        task.revision += 1
        self._state.loaded += len(states)

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
