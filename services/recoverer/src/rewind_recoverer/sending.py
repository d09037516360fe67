"""Sending units of work to Graph and reading back one answer per request.

Every request goes through ``GraphClient``: the tenant's shared write budget is taken
before it leaves (for a ``$batch``, one write per request in it), 429s are retried after
Retry-After (inside a ``$batch`` too), and only when Graph keeps refusing does
``DependencyUnavailable`` end the step, to be resumed later. Other errors are answers:
the action that sent them fails with Graph's code and message.

An action's requests are sent in order and stop at its first failure; in a chained
``$batch`` the requests after a failure come back 424 and are never retried. A request
Graph throttled is sent again with the rest of its chain by ``GraphClient.batch``; a
request left without an answer reads as 424 after requests that all succeeded, and the
rest of the chain is sent again from there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rewind_common.domain.requests import PlannedRequest
from rewind_common.errors import GraphError
from rewind_common.graph.client import BatchRequest, BatchResult, GraphClient
from rewind_recoverer.batching import Unit, UnitKind, parallel_batch, sequential_batches

#: Graph allows one Conditional Access or named-location write per second per tenant.
SERIAL_INTERVAL_SECONDS = 1.05
_MAX_RESENDS = 20


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self) -> dict[str, str]:
        """Graph's error code and message (``{code, message}``)."""
        found = self.body.get("error") if isinstance(self.body, Mapping) else None
        if isinstance(found, Mapping):
            return {
                "code": str(found.get("code") or "unknownError"),
                "message": str(found.get("message") or f"Graph answered {self.status}"),
            }
        if self.status == 424:
            return {
                "code": "failedDependency",
                "message": "not sent: an earlier request of the action failed",
            }
        return {"code": "unknownError", "message": f"Graph answered {self.status}"}


def _of(result: BatchResult) -> Answer:
    return Answer(result.status, result.body)


class Sender:
    def __init__(
        self,
        graph: GraphClient,
        *,
        serial_interval: float = SERIAL_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._graph = graph
        self._interval = serial_interval
        self._clock = clock
        self._serial_lock = asyncio.Lock()
        self._last_serial = float("-inf")
        #: Requests sent (after retries), for the recovery's counters.
        self.requests = 0
        self.batches = 0

    async def send(self, unit: Unit) -> dict[int, list[Answer]]:
        """Answers per action (by plan position), one per request that was sent."""
        if unit.kind is UnitKind.PARALLEL:
            return await self._parallel(unit)
        item = unit.items[0]
        if unit.kind is UnitKind.SEQUENTIAL:
            return {item.seq: await self._chained(item.requests)}
        serial = unit.kind is UnitKind.SERIAL
        answers: list[Answer] = []
        for request in item.requests:
            answer = await (self._paced(request) if serial else self._one(request))
            answers.append(answer)
            if not answer.ok:
                break
        return {item.seq: answers}

    async def _one(self, request: PlannedRequest) -> Answer:
        self.requests += 1
        try:
            body = await self._graph.request(request.method, request.url, body=request.body)
        except GraphError as exc:
            return Answer(exc.status, {"error": {"code": exc.graph_code, "message": exc.message}})
        return Answer(200, body)

    async def _paced(self, request: PlannedRequest) -> Answer:
        async with self._serial_lock:
            wait = self._last_serial + self._interval - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await self._one(request)
            finally:
                self._last_serial = self._clock()

    async def _parallel(self, unit: Unit) -> dict[int, list[Answer]]:
        self.batches += 1
        self.requests += len(unit.items)
        results = {r.id: r for r in await self._graph.batch(parallel_batch(unit.items))}
        out: dict[int, list[Answer]] = {}
        for item in unit.items:
            result = results.get(str(item.seq))
            out[item.seq] = [_of(result)] if result is not None else []
        return out

    async def _chained(self, requests: Sequence[PlannedRequest]) -> list[Answer]:
        answers: list[Answer] = []
        remaining = list(requests)
        for _ in range(_MAX_RESENDS * max(1, len(requests))):
            if not remaining:
                break
            resend_from: int | None = None
            for batch in sequential_batches(remaining):
                self.batches += 1
                self.requests += len(batch)
                by_id = {r.id: r for r in await self._graph.batch(batch)}
                ordered = _in_order(batch, by_id)
                failed = next((i for i, a in enumerate(ordered) if not a.ok), None)
                if failed is None:
                    answers.extend(ordered)
                    continue
                answers.extend(ordered[:failed])
                if ordered[failed].status == 424:
                    resend_from = int(batch[failed].id)
                else:
                    answers.append(ordered[failed])
                    return answers
                break
            remaining = [] if resend_from is None else remaining[resend_from:]
        return answers


def _in_order(batch: Sequence[BatchRequest], by_id: Mapping[str, BatchResult]) -> list[Answer]:
    return [_of(by_id[r.id]) if r.id in by_id else Answer(424, None) for r in batch]
