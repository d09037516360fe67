"""When a tenant's snapshot is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rewind_common.settings import Settings, TenantConnection
from rewind_snapshotter.scheduler import is_due

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
TENANT = "8b5b1d58-7f0e-4a9b-9a3c-2d4f6e8a1c01"


def test_a_snapshot_is_due_once_the_interval_has_passed() -> None:
    assert is_due(None, 60, NOW)
    assert not is_due(NOW - timedelta(minutes=59), 60, NOW)
    assert is_due(NOW - timedelta(minutes=60), 60, NOW)
    assert not is_due(None, 0, NOW)  # 0 turns scheduling off


def test_a_tenant_may_override_the_interval() -> None:
    settings = Settings(snapshot_interval_minutes=60)
    plain = TenantConnection(tenant_id=TENANT, credential="none")
    daily = TenantConnection(tenant_id=TENANT, credential="none", snapshot_interval_minutes=1440)
    off = TenantConnection(tenant_id=TENANT, credential="none", snapshot_interval_minutes=0)
    assert settings.snapshot_interval_minutes_of(plain) == 60
    assert settings.snapshot_interval_minutes_of(daily) == 1440
    assert settings.snapshot_interval_minutes_of(off) == 0
