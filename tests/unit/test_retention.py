from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rewind_common.domain.retention import SnapshotAge, decide
from rewind_common.settings import RetentionPolicy

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
POLICY = RetentionPolicy(keep_all_days=7, keep_daily_days=90)


def _hourly(days: int) -> list[SnapshotAge]:
    start = NOW - timedelta(days=days)
    return [SnapshotAge(f"s{h:05d}", start + timedelta(hours=h)) for h in range(days * 24)]


def test_everything_within_a_week_then_one_per_day_until_ninety_days() -> None:
    snapshots = _hourly(120)
    decisions = {d.id: d for d in decide(snapshots, policy=POLICY, now=NOW, held=set())}
    kept = [s for s in snapshots if not decisions[s.id].expired]
    recent = [s for s in kept if s.created_at > NOW - timedelta(days=7)]
    older = [s for s in kept if s.created_at <= NOW - timedelta(days=7)]
    assert recent == [s for s in snapshots if s.created_at > NOW - timedelta(days=7)]
    assert len({s.created_at.date() for s in older}) == len(older)
    assert all(s.created_at > NOW - timedelta(days=91) for s in older)
    assert 82 <= len(older) <= 84


def test_legal_hold_and_the_newest_snapshot_never_expire() -> None:
    old = [SnapshotAge("a", NOW - timedelta(days=400)), SnapshotAge("b", NOW - timedelta(days=300))]
    decisions = {d.id: d for d in decide(old, policy=POLICY, now=NOW, held={"a"})}
    assert not decisions["a"].expired
    assert decisions["a"].expires_at is None
    assert not decisions["b"].expired
    assert decisions["b"].reason == "newest snapshot"
