"""``make demo`` against the whole stack as processes: the story runs from backup to a
clean recovery, the tenant ends as it was backed up, and every series the dashboard and
the alert rules query is served by the processes Prometheus would scrape."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from devstack.stack import DEMO_TENANT, WORKER_SERVICES, Stack
from prometheus_client.parser import text_string_to_metric_families

from tests.support.stack import Clients, running_stack
from tests.unit.deploy.support import (
    PROMETHEUS_SERIES,
    alert_rules,
    dashboard_expressions,
    queried_metrics,
)

#: Where each Rewind process of the stack serves its metrics (filled as it starts).
METRICS: dict[str, str] = {}


@pytest.fixture
def stack(tmp_path: Path, redis_db_url: str, mongo_url: str) -> Iterator[Stack]:
    METRICS.clear()
    with running_stack(
        tmp_path, redis_db_url, mongo_url, workers=WORKER_SERVICES, metrics=METRICS
    ) as running:
        METRICS["api"] = f"{running.api_url}/metrics"
        httpx.post(
            f"{running.emulator_url}/_emulator/generate", json=DEMO_TENANT, timeout=60
        ).raise_for_status()
        yield running


def test_the_demo_recovers_the_incident_it_plays(stack: Stack, tmp_path: Path) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(Clients(stack).token)
    before = Clients(stack).state()

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack.demo",
            "--api-url",
            stack.api_url,
            "--emulator-url",
            stack.emulator_url,
            "--tenant",
            stack.config.tenant_id,
            "--token-file",
            str(token_file),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout
    for step in ("1. Backup", "2. Incident", "3. Difference report", "4. Recovery", "5. Result"):
        assert step in output
    assert "back to the backup on every recoverable property" in output
    assert re.search(r"Verification\W+\d+ objects checked: clean", output), output[-3000:]
    after = Clients(stack).state()
    policies = {p["id"]: p for p in after["types"]["conditionalAccessPolicy"]["active"]}
    for policy in before["types"]["conditionalAccessPolicy"]["active"]:
        excluded = policies[policy["id"]]["conditions"]["users"]["excludeUsers"]
        assert sorted(excluded) == sorted(policy["conditions"]["users"]["excludeUsers"])
    rogue = [
        a for a in after["types"]["application"]["active"] if a["displayName"] == "Mail Sync Helper"
    ]
    assert rogue == []

    _assert_monitoring_sees_the_story()


def _assert_monitoring_sees_the_story() -> None:
    """Every series the dashboard and the alert rules query is served, after a backup, a
    report and a recovery, by one of the processes Prometheus scrapes."""
    served: set[str] = set()
    for address in METRICS.values():
        response = httpx.get(address, timeout=10)
        assert response.status_code == 200, address
        for family in text_string_to_metric_families(response.text):
            served |= {sample.name for sample in family.samples}
    queried = set().union(
        *(queried_metrics(e) for e in dashboard_expressions().values()),
        *(queried_metrics(r["expr"]) for r in alert_rules()),
    )
    missing = queried - served - PROMETHEUS_SERIES
    assert not missing, f"queried but served by no process: {sorted(missing)}"
