"""Pure parts of the executor: how a wave travels to Graph, and how a recovery ends."""

from __future__ import annotations

from rewind_common.domain.requests import PlannedRequest
from rewind_common.jobs.model import JobStatus
from rewind_recoverer.batching import (
    Prepared,
    UnitKind,
    parallel_batch,
    plan_units,
    sequential_batches,
)
from rewind_recoverer.outcome import final_status
from rewind_recoverer.sending import Answer

PATCH = PlannedRequest("PATCH", "/users/u", {"jobTitle": "x"})


def _one(seq: int, *, batchable: bool = True, requests: int = 1) -> Prepared:
    return Prepared(seq, tuple(PATCH for _ in range(requests)), batchable)


def test_single_request_actions_share_batches_of_twenty() -> None:
    units = plan_units([_one(i) for i in range(1, 46)])

    assert [u.kind for u in units] == [UnitKind.PARALLEL, UnitKind.PARALLEL, UnitKind.PARALLEL]
    assert [len(u.items) for u in units] == [20, 20, 5]
    assert units[0].seqs == list(range(1, 21))
    batch = parallel_batch(units[0].items)
    assert [r.id for r in batch] == [str(i) for i in range(1, 21)]
    assert all(not r.depends_on for r in batch)


def test_conditional_access_goes_one_by_one_and_multi_request_actions_chain() -> None:
    units = plan_units(
        [_one(1, batchable=False), _one(2, requests=3), _one(3), _one(4, requests=0)]
    )

    kinds = {u.kind: u.seqs for u in units}
    assert kinds == {UnitKind.SERIAL: [1], UnitKind.SEQUENTIAL: [2], UnitKind.SINGLE: [3]}


def test_chained_requests_depend_on_the_one_before_in_batches_of_twenty() -> None:
    batches = sequential_batches([PATCH] * 45)

    assert [len(b) for b in batches] == [20, 20, 5]
    assert batches[0][0].depends_on == ()
    assert batches[0][1].depends_on == ("0",)
    assert batches[1][0].id == "20"
    assert batches[1][0].depends_on == ()  # a new batch starts after the last one ended
    assert all(not r.url.startswith(("http", "/v1.0")) for b in batches for r in b)


def test_answers_carry_graphs_error_code_and_message() -> None:
    error = {"error": {"code": "Request_BadRequest", "message": "nope"}}

    assert Answer(400, error).error() == {"code": "Request_BadRequest", "message": "nope"}
    assert Answer(424, None).error()["code"] == "failedDependency"
    assert not Answer(429, None).ok
    assert Answer(204, None).ok


def test_how_a_recovery_ends() -> None:
    assert final_status({}, runnable=0, warned=False) == (JobStatus.COMPLETED, None)
    assert final_status({"skipped": 2}, runnable=0, warned=True)[0] is (
        JobStatus.COMPLETED_WITH_WARNINGS
    )
    assert final_status({"applied": 3}, runnable=3, warned=False)[0] is JobStatus.COMPLETED
    partly = final_status({"applied": 2, "failed": 1}, runnable=3, warned=True)
    assert partly[0] is JobStatus.COMPLETED_WITH_WARNINGS
    status, error = final_status({"failed": 3}, runnable=3, warned=True)
    assert status is JobStatus.FAILED
    assert error is not None
    assert error.code == "nothingApplied"
    blocked = final_status({"failed": 1, "skipped": 1}, runnable=0, warned=True)
    assert blocked[0] is JobStatus.FAILED
    unclean = final_status({"applied": 1}, runnable=1, warned=False, verified_clean=False)
    assert unclean[0] is JobStatus.COMPLETED_WITH_WARNINGS
