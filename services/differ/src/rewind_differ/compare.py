"""The compare phase (``In progress``): each type's two sides merge-joined by id, equal
fingerprints skipped, differing objects read whole, diffed and stored as changes.

Against the live tenant, objects an earlier recovery re-created are compared under
their new ids (``recreated``).

Bodies are read only for objects whose fingerprints differ, a batch at a time: the
backup's versions from their packs, the live ones from staging (or, between two
snapshots, the later snapshot's packs). A checkpoint follows every batch, so a
redelivered step resumes after the last object compared and stores no change twice
(change keys are deterministic, see ``storage.reports``). A few types are compared at
the same time: each waits on MongoDB and Graph in turn, and their waits overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence

from rewind_common.domain.changes import Change
from rewind_common.domain.diff import diff_object
from rewind_common.domain.records import ObjectState
from rewind_common.domain.shapes import aligned, plainly_equal
from rewind_common.jobs.runner import StepContext
from rewind_common.storage.manifest import ManifestEntry, Segment
from rewind_common.storage.report_staging import ReportStaging
from rewind_common.storage.reports import ReportStore
from rewind_common.storage.snapshot_reader import SnapshotReader
from rewind_common.storage.snapshots import SnapshotStore
from rewind_differ.recreated import Recreated, with_renamed
from rewind_differ.resolver import RecordingResolver, ReferenceChecker
from rewind_differ.sides import Item, Pair, manifest_items, merged, staged_pairs
from rewind_differ.state import DiffState, TypeTask

#: Differing objects read and diffed together.
DIFF_BATCH = 200
#: Objects compared between checkpoints when few of them differ.
EXAMINE_BATCH = 5_000
#: Types compared at the same time.
TYPE_CONCURRENCY = 3

Pending = tuple[Item | None, Item | None]


class ComparePhase:
    def __init__(
        self,
        *,
        store: SnapshotStore,
        reports: ReportStore,
        staging: ReportStaging,
        checker: ReferenceChecker,
        state: DiffState,
        backup_chain: list[Segment],
        other_chain: list[Segment] | None,
        context: StepContext,
        save: Callable[[], Awaitable[None]],
        recreated: Recreated | None = None,
    ) -> None:
        self._store = store
        self._reader = SnapshotReader(store)
        self._reports = reports
        self._staging = staging
        self._checker = checker
        self._state = state
        self._backup_chain = backup_chain
        self._other_chain = other_chain
        self._context = context
        self._save = save
        self._recreated = recreated or Recreated()
        self._flushes = 0
        #: Whether progress is this phase's to report (not while types are still loaded).
        self._reporting = True

    async def run(self) -> bool:
        """Compare until every type is done (True) or the step's time is up (False)."""
        self._reporting = True
        pending = [task for task in self._state.tasks if not (task.compared or task.skipped)]
        semaphore = asyncio.Semaphore(TYPE_CONCURRENCY)

        async def one(task: TypeTask) -> None:
            async with semaphore:
                # every step compares something, however short its time
                if not (self._flushes and self._context.out_of_time()):
                    await self._compare(task)

        async with asyncio.TaskGroup() as group:
            for task in pending:
                group.create_task(one(task))
        return all(task.compared or task.skipped for task in self._state.tasks)

    async def early(self, task: TypeTask) -> None:
        """Compare a type just loaded while others are still read (progress stays the
        load's); what time leaves undone is compared after loading."""
        if task.skipped or task.compared:
            return
        self._reporting = False
        await self._compare(task)

    def _pairs(self, task: TypeTask, backup: AsyncIterator[Item]) -> AsyncGenerator[Pair, None]:
        if self._other_chain is None:
            return staged_pairs(
                backup,
                self._staging,
                self._state.report_id,
                task.name,
                after=task.after,
                width=task.bucket_width,
            )
        current = manifest_items(
            self._store, self._other_chain, task.name, ids=task.ids, after=task.after
        )
        return merged(backup, current)

    async def _compare(self, task: TypeTask) -> bool:
        backup = manifest_items(
            self._store, self._backup_chain, task.name, ids=task.ids, after=task.after
        )
        renamed = (
            await self._recreated.renamed_items(
                self._store, self._backup_chain, task.name, task.ids
            )
            if self._recreated
            else {}
        )
        items = with_renamed(backup, renamed, after=task.after) if renamed else backup
        pending: list[Pending] = []
        examined = 0
        last: str | None = None
        async with (
            contextlib.aclosing(backup),
            contextlib.aclosing(items),
            contextlib.aclosing(self._pairs(task, items)) as pairs,
        ):
            async for object_id, before, now in pairs:
                last = object_id
                examined += 1
                if before is None or now is None or before.fingerprint != now.fingerprint:
                    pending.append((before, now))
                if len(pending) >= DIFF_BATCH or examined >= EXAMINE_BATCH:
                    await self._flush(task, pending, last, examined)
                    pending, examined = [], 0
                    if self._context.out_of_time():
                        return False
        await self._flush(task, pending, last, examined)
        task.compared = True
        await self._save()
        return True

    async def _flush(
        self, task: TypeTask, pending: Sequence[Pending], last: str | None, examined: int
    ) -> None:
        if pending:
            changes = await self.diff(await self._states(pending))
            await self._reports.put_changes(self._state.report_id, changes)
        if last is not None:
            task.after = last
        self._state.compared += examined
        self._flushes += 1
        await self._save()
        await self._context.raise_if_canceled()
        if self._reporting:
            done = self._state.compared
            await self._context.progress(done, max(done, self._state.expected))

    async def _states(
        self, pending: Sequence[Pending]
    ) -> list[tuple[ObjectState | None, ObjectState | None]]:
        entries: list[ManifestEntry] = []
        for before, now in pending:
            for item in (before, now):
                if item is not None and item.entry is not None:
                    entries.append(item.entry)
        resolved = await self._reader.resolve(entries) if entries else []
        # Backup and later snapshot may hold the same object: key states by their entry.
        by_entry = {id(entry): state for entry, state in zip(entries, resolved, strict=True)}

        def state_of(item: Item | None, backup: ObjectState | None = None) -> ObjectState | None:
            if item is None:
                return None
            if item.staged is not None:
                # what the live object shares with its backup was not kept
                return item.staged.state(backup)
            assert item.entry is not None
            return by_entry[id(item.entry)]

        states = []
        for before, now in pending:
            backed_up = state_of(before)
            # the live side takes what it shares with the backup as stored
            current = state_of(now, backed_up)
            if backed_up is not None and self._recreated:
                backed_up = self._recreated.backup_state(backed_up)
            states.append((backed_up, current))
        return states

    async def diff(
        self, pairs: Sequence[tuple[ObjectState | None, ObjectState | None]]
    ) -> list[Change]:
        """Changes of the pairs, with their references checked in one batch."""
        firsts: list[tuple[Change | None, bool]] = []
        recorder = RecordingResolver()
        aligned_pairs = []
        for before, now in pairs:
            if before is not None and now is not None and plainly_equal(before, now):
                continue
            before, now = aligned(before, now)
            questions = RecordingResolver()
            change = diff_object(before, now, resolver=questions)
            recorder.live |= questions.live
            recorder.planned |= questions.planned
            aligned_pairs.append((before, now))
            firsts.append((change, bool(questions)))
        if not recorder:
            return [change for change, _ in firsts if change is not None]
        answers = await self._checker.answer(recorder)
        changes: list[Change] = []
        for (before, now), (change, asked) in zip(aligned_pairs, firsts, strict=True):
            # Only a diff that asked about references depends on the answers.
            final = diff_object(before, now, resolver=answers) if asked else change
            if final is not None:
                changes.append(final)
        return changes
