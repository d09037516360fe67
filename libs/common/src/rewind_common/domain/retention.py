"""Which snapshots retention keeps, and until when.

Every snapshot is kept for ``keep_all_days``; the newest snapshot of each UTC day is kept
for ``keep_daily_days``. A snapshot under legal hold never expires while held, and a
tenant's newest snapshot is never removed (it is the base of the next incremental one
and the only backup left if scheduling stopped).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rewind_common.settings import RetentionPolicy


@dataclass(frozen=True)
class SnapshotAge:
    id: str
    created_at: datetime


@dataclass(frozen=True)
class RetentionDecision:
    id: str
    #: None while the snapshot is held or is the newest one.
    expires_at: datetime | None
    expired: bool
    reason: str


def decide(
    snapshots: Iterable[SnapshotAge],
    *,
    policy: RetentionPolicy,
    now: datetime,
    held: set[str],
) -> list[RetentionDecision]:
    ordered = sorted(snapshots, key=lambda s: (s.created_at, s.id))
    if not ordered:
        return []
    newest = ordered[-1].id
    day_keepers: dict[str, str] = {}
    for snapshot in ordered:
        day_keepers[snapshot.created_at.date().isoformat()] = snapshot.id
    keepers = set(day_keepers.values())
    decisions = []
    for snapshot in ordered:
        if snapshot.id in held:
            decisions.append(RetentionDecision(snapshot.id, None, False, "legal hold"))
            continue
        if snapshot.id == newest:
            decisions.append(RetentionDecision(snapshot.id, None, False, "newest snapshot"))
            continue
        if snapshot.id in keepers:
            days, reason = policy.keep_daily_days, "newest of its day"
        else:
            days, reason = policy.keep_all_days, "kept with every snapshot of the week"
        expires_at = snapshot.created_at + timedelta(days=max(days, policy.keep_all_days))
        decisions.append(RetentionDecision(snapshot.id, expires_at, expires_at <= now, reason))
    return decisions
