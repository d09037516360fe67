"""Shared test configuration. Server fixtures live in ``tests/fixtures/servers.py``."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("default")

pytest_plugins = ["tests.fixtures.servers"]
