"""How a recovery ends, from its actions' outcomes (pure).

- nothing to do (no action the plan could take): ``Completed``, or ``Completed with
  warnings`` when the plan reported what it cannot recover;
- something to do and nothing applied: ``Failed``, also when every action the plan
  holds failed before it could be sent (an unresolvable reference, a break-glass
  exclusion it would drop);
- any action failed or skipped, any warning, or a verification that found differences
  the recovery did not report: ``Completed with warnings``;
- otherwise ``Completed``.
"""

from __future__ import annotations

from collections.abc import Mapping

from rewind_common.jobs.model import JobError, JobStatus


def final_status(
    outcomes: Mapping[str, int],
    *,
    runnable: int,
    warned: bool,
    verified_clean: bool = True,
) -> tuple[JobStatus, JobError | None]:
    applied = outcomes.get("applied", 0)
    failed = outcomes.get("failed", 0)
    skipped = outcomes.get("skipped", 0)
    if applied == 0 and (runnable > 0 or failed > 0):
        return JobStatus.FAILED, JobError(
            code="nothingApplied",
            message=(
                f"no action could be applied ({failed} failed, {skipped} skipped); "
                "see the recovery's actions and warnings"
            ),
        )
    if failed or skipped or warned or not verified_clean:
        return JobStatus.COMPLETED_WITH_WARNINGS, None
    return JobStatus.COMPLETED, None
