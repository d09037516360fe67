"""Applying a stored plan, exactly once, across crashes, cancels and time-boxed steps.

Phases run in order (DESIGN section 6). Within a phase, the actions whose dependencies
are applied form a wave; a wave's units (``batching``) run concurrently, at most
``concurrency`` at a time, each request taking its share of the tenant's write budget
inside ``GraphClient``; the next wave starts when the wave has ended. An action whose
dependency failed or was skipped is skipped.

Exactly once:

- before a unit's first write, its actions are marked attempted;
- a re-created object's new id is stored as soon as Graph returns it;
- every outcome is stored as soon as it is known.

An action found attempted but unfinished (the process died, or Graph kept throttling)
is checked against the live tenant first (``domain.idempotency``): applied already, or
only what is still missing is sent; a re-creation whose id was never stored is found
by its natural key (``lookup``). A write Graph refuses as a duplicate (400 on an
existing link, 404 on a missing one) is checked the same way before it counts as a
failure.

Stopping (out of time, cancel requested) is checked before every unit: nothing more is
sent, units already sending finish and record their outcomes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rewind_common.domain.actions import BlockCode, Outcome, PlannedAction
from rewind_common.domain.changes import Action
from rewind_common.domain.idempotency import (
    Readiness,
    find_recreated,
    is_applied,
    pending_requests,
    readiness,
    record_created,
)
from rewind_common.domain.remap import IdMap, UnresolvedPlaceholder, new_password
from rewind_common.domain.requests import PlannedRequest
from rewind_common.jobs.model import utcnow
from rewind_common.metrics import RECOVERY_ACTIONS
from rewind_common.storage.recoveries import RecoveryStore, id_map_of
from rewind_recoverer.batching import Prepared, Unit, plan_units
from rewind_recoverer.lookup import LiveLookup
from rewind_recoverer.sending import Answer, Sender

log = logging.getLogger(__name__)

#: Statuses after which a write may have been refused only because its effect is there.
_MAYBE_DONE = frozenset({400, 404, 409})


class Stop(StrEnum):
    OUT_OF_TIME = "outOfTime"
    CANCELED = "canceled"


@dataclass
class Tracked:
    """One stored action and what the executor knows about it."""

    seq: int
    action: PlannedAction
    outcome: Outcome
    attempted: bool
    document: Mapping[str, Any]

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Tracked:
        return cls(
            seq=int(document["seq"]),
            action=PlannedAction.from_dict(document),
            outcome=Outcome(document.get("outcome", "pending")),
            attempted=document.get("attemptedAt") is not None,
            document=document,
        )


@dataclass
class Progress:
    done: int = 0
    total: int = 0
    applied: int = 0
    failed: int = 0
    skipped: int = 0
    warnings: list[tuple[str, str, str]] = field(default_factory=list)


StopCheck = Callable[[], Awaitable[Stop | None]]
ProgressHook = Callable[[Progress], Awaitable[None]]


class Executor:
    def __init__(
        self,
        store: RecoveryStore,
        recovery_id: str,
        *,
        sender: Sender,
        lookup: LiveLookup,
        graph_base_url: str,
        concurrency: int,
        should_stop: StopCheck,
        on_progress: ProgressHook | None = None,
    ) -> None:
        self._store = store
        self._recovery_id = recovery_id
        self._sender = sender
        self._lookup = lookup
        self._base_url = graph_base_url
        self._semaphore = asyncio.Semaphore(max(concurrency, 1))
        self._should_stop = should_stop
        self._on_progress = on_progress
        self._stop: Stop | None = None
        #: Units sent by this run: a step always gets some work done before its time is up.
        self.units_sent = 0
        self.id_map = IdMap()
        self.progress = Progress()
        self._tracked: dict[str, Tracked] = {}

    async def run(self) -> Stop | None:
        """Apply what remains of the plan; returns why it stopped early, or None."""
        documents = await self._store.actions(self._recovery_id)
        self.id_map = id_map_of(documents)
        tracked = [Tracked.of(d) for d in documents]
        self._tracked = {t.action.id: t for t in tracked}
        self.progress = Progress(total=len(tracked))
        for t in tracked:
            self._count(t.outcome)
        phases: dict[int, list[Tracked]] = {}
        for t in tracked:
            phases.setdefault(t.action.phase, []).append(t)
        for phase in sorted(phases):
            stop = await self._phase(phases[phase])
            if stop is not None:
                return stop
        return None

    # -- scheduling ---------------------------------------------------------------------

    def _outcomes(self) -> dict[str, Outcome]:
        return {action_id: t.outcome for action_id, t in self._tracked.items()}

    async def _phase(self, members: list[Tracked]) -> Stop | None:
        while True:
            pending = [t for t in members if t.outcome is Outcome.PENDING]
            if not pending:
                return None
            outcomes = self._outcomes()
            wave: list[Tracked] = []
            blocked: list[Tracked] = []
            for t in pending:
                state = readiness(t.action, outcomes)
                if state is Readiness.BLOCKED:
                    blocked.append(t)
                elif state is Readiness.READY:
                    wave.append(t)
            if blocked:
                await self._finish_skipped(blocked, outcomes)
                continue
            if not wave:
                # Waiting on actions that will never run: none of them can be taken.
                await self._finish_skipped(pending, outcomes)
                return None
            await self._wave(wave)
            if self._stop is not None:
                return self._stop

    async def _wave(self, wave: list[Tracked]) -> None:
        self._stop = await self._check_stop()
        if self._stop is not None:
            return
        prepared: list[Prepared] = []
        for t in wave:
            requests = await self._prepare(t)
            if requests is not None:
                prepared.append(Prepared(t.seq, requests, t.action.batchable))
        by_seq = {t.seq: t for t in wave}
        units = plan_units(prepared)
        await asyncio.gather(*(self._unit(unit, by_seq) for unit in units))

    async def _unit(self, unit: Unit, by_seq: Mapping[int, Tracked]) -> None:
        async with self._semaphore:
            if self._stop is None:
                self._stop = await self._check_stop()
            if self._stop is not None:
                return
            self.units_sent += 1
            fresh = [seq for seq in unit.seqs if not by_seq[seq].attempted]
            await self._store.mark_attempted(self._recovery_id, fresh, utcnow())
            for seq in fresh:
                by_seq[seq].attempted = True
            answers = await self._sender.send(unit)
            for item in unit.items:
                await self._settle(by_seq[item.seq], item.requests, answers.get(item.seq, []))

    async def _check_stop(self) -> Stop | None:
        stop = await self._should_stop()
        if stop is Stop.OUT_OF_TIME and self.units_sent == 0:
            return None
        return stop

    # -- one action ---------------------------------------------------------------------

    def _resolve(self, action: PlannedAction) -> tuple[PlannedRequest, ...]:
        password = new_password() if action.action is Action.RECREATE else None
        return tuple(
            r.resolved(self.id_map, graph_base_url=self._base_url, password=password)
            for r in action.requests
        )

    async def _prepare(self, t: Tracked) -> tuple[PlannedRequest, ...] | None:
        """The requests to send, or None when the action was settled without any."""
        action = t.action
        try:
            if not t.attempted:
                return self._resolve(action)
            if action.action is Action.RECREATE:
                if action.object_id in self.id_map:
                    await self._applied(t, self.id_map.get(action.object_id))
                    return None
                candidates = await self._lookup.candidates(action, self.id_map)
                found = find_recreated(action, candidates, self.id_map)
                if found is not None:
                    await self._remember(t, {"id": found.object_id, **dict(found.body)})
                    await self._applied(t, found.object_id)
                    return None
                return self._resolve(action)
            live = await self._lookup.state(action, self.id_map)
            requests = pending_requests(action, live, self.id_map, graph_base_url=self._base_url)
            if not requests:
                await self._applied(t)
                return None
            return requests
        except UnresolvedPlaceholder as exc:
            await self._failed(t, {"code": "unresolvedReference", "message": str(exc)})
            return None

    async def _settle(
        self, t: Tracked, requests: tuple[PlannedRequest, ...], answers: list[Answer]
    ) -> None:
        if not answers:
            return  # not sent (a stop came first): still pending, not attempted by Graph
        last = answers[-1]
        if last.ok and len(answers) == len(requests):
            new_id = None
            if t.action.action is Action.RECREATE:
                body = last.body if isinstance(last.body, Mapping) else {}
                if "id" in body:
                    await self._remember(t, body)
                    new_id = str(body["id"])
            await self._applied(t, new_id)
            return
        if last.status in _MAYBE_DONE and t.action.action is not Action.RECREATE:
            live = await self._lookup.state(t.action, self.id_map)
            done = (
                not pending_requests(t.action, live, self.id_map, graph_base_url=self._base_url)
                if t.action.action is Action.LINKS
                else is_applied(t.action, live, self.id_map)
            )
            if done:
                await self._applied(t)
                return
        await self._failed(t, last.error())

    async def _remember(self, t: Tracked, body: Mapping[str, Any]) -> None:
        self.id_map = record_created(t.action, body, self.id_map)
        new_app = body.get("appId") if t.action.old_app_id is not None else None
        await self._store.record_created(
            self._recovery_id, t.seq, str(body["id"]), str(new_app) if new_app else None
        )

    # -- outcomes -----------------------------------------------------------------------

    def _count(self, outcome: Outcome) -> None:
        if outcome is Outcome.PENDING:
            return
        self.progress.done += 1
        if outcome is Outcome.APPLIED:
            self.progress.applied += 1
        elif outcome is Outcome.FAILED:
            self.progress.failed += 1
        else:
            self.progress.skipped += 1

    async def _finish(self, t: Tracked, outcome: Outcome, fields: dict[str, Any]) -> None:
        fields = {"outcome": outcome.value, "finishedAt": utcnow(), **fields}
        await self._store.record_outcomes(self._recovery_id, [(t.seq, fields)])
        t.outcome = outcome
        self._count(outcome)
        RECOVERY_ACTIONS.labels(t.action.action.value, outcome.value).inc()
        if self._on_progress is not None:
            await self._on_progress(self.progress)

    async def _applied(self, t: Tracked, new_id: str | None = None) -> None:
        after = self.id_map.fill(t.action.after) if t.action.after is not None else None
        fields: dict[str, Any] = {"error": None, "after": after}
        if new_id is not None:
            fields["newObjectId"] = new_id
        await self._finish(t, Outcome.APPLIED, fields)

    async def _failed(self, t: Tracked, error: Mapping[str, str]) -> None:
        reason = f"{t.action.action.value} failed: {error['code']}: {error['message']}"
        self.progress.warnings.append((t.action.type, t.action.object_id, reason))
        await self._finish(t, Outcome.FAILED, {"error": dict(error), "after": None})

    async def _finish_skipped(self, members: list[Tracked], outcomes: Mapping[str, Any]) -> None:
        for t in members:
            missing = [d for d in t.action.depends_on if outcomes.get(d) is not Outcome.APPLIED]
            message = "not taken: " + (
                f"{', '.join(missing)} was not applied" if missing else "its dependencies"
            )
            reason = f"{t.action.action.value} skipped: {message}"
            self.progress.warnings.append((t.action.type, t.action.object_id, reason))
            error = {"code": BlockCode.DEPENDENCY.value, "message": message}
            await self._finish(t, Outcome.SKIPPED, {"error": error, "after": None})
