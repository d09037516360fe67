"""How a wave of ready actions travels to Graph: pure, so it is tested on its own.

- Conditional Access policies and named locations (``batchable`` False) go one request
  at a time through a serial lane: Graph allows one such write per second per tenant,
  and a ``$batch`` would only collect 429s.
- An action with one request shares a ``$batch`` with up to 19 others: the requests are
  independent (a batch is "fully parallel"); a batch of one is sent as a plain request.
- An action with several requests (members added 20 at a time and removed one by one, an
  app role disabled before it is removed) sends them in order, each depending on the
  one before it (a batch is "fully sequential"), at most 20 to a batch.

Batching saves round trips, not write budget: Graph counts every request in a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rewind_common.domain.requests import PlannedRequest
from rewind_common.graph.client import BATCH_LIMIT, BatchRequest


class UnitKind(StrEnum):
    SINGLE = "single"  # one request, sent as is
    PARALLEL = "parallel"  # one $batch of independent single-request actions
    SEQUENTIAL = "sequential"  # one action's requests, chained, in $batches of 20
    SERIAL = "serial"  # one action's requests one by one, paced (CA, named locations)


@dataclass(frozen=True)
class Prepared:
    """An action ready to send: its position in the plan and its resolved requests."""

    seq: int
    requests: tuple[PlannedRequest, ...]
    batchable: bool = True


@dataclass(frozen=True)
class Unit:
    kind: UnitKind
    items: tuple[Prepared, ...]

    @property
    def seqs(self) -> list[int]:
        return [item.seq for item in self.items]

    @property
    def writes(self) -> int:
        return sum(len(item.requests) for item in self.items)


def plan_units(prepared: Sequence[Prepared], *, batch_limit: int = BATCH_LIMIT) -> list[Unit]:
    """Units for a wave, in plan order within each kind."""
    units: list[Unit] = []
    group: list[Prepared] = []

    def flush() -> None:
        if len(group) == 1:
            units.append(Unit(UnitKind.SINGLE, (group[0],)))
        elif group:
            units.append(Unit(UnitKind.PARALLEL, tuple(group)))
        group.clear()

    for item in prepared:
        if not item.requests:
            continue
        if not item.batchable:
            units.append(Unit(UnitKind.SERIAL, (item,)))
        elif len(item.requests) > 1:
            units.append(Unit(UnitKind.SEQUENTIAL, (item,)))
        else:
            group.append(item)
            if len(group) == batch_limit:
                flush()
    flush()
    return units


def parallel_batch(items: Sequence[Prepared]) -> list[BatchRequest]:
    """One independent request per action, identified by the action's position."""
    return [_batch_request(str(item.seq), item.requests[0]) for item in items]


def sequential_batches(
    requests: Sequence[PlannedRequest], *, batch_limit: int = BATCH_LIMIT
) -> list[list[BatchRequest]]:
    """Requests chained with ``dependsOn``, ``batch_limit`` to a batch; ids are their
    positions in ``requests``."""
    batches: list[list[BatchRequest]] = []
    for start in range(0, len(requests), batch_limit):
        chunk: list[BatchRequest] = []
        for index in range(start, min(start + batch_limit, len(requests))):
            depends = (str(index - 1),) if index > start else ()
            chunk.append(_batch_request(str(index), requests[index], depends))
        batches.append(chunk)
    return batches


def _batch_request(
    request_id: str, request: PlannedRequest, depends_on: tuple[str, ...] = ()
) -> BatchRequest:
    body: Any = request.body
    return BatchRequest(
        id=request_id,
        method=request.method,
        url=request.url,
        body=body,
        depends_on=depends_on,
    )
