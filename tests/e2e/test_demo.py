"""``make demo`` against the whole stack as processes: the story runs from backup to a
clean recovery, and the tenant ends as it was backed up."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from devstack.stack import DEMO_TENANT, WORKER_SERVICES, Stack

from tests.support.stack import Clients, running_stack


@pytest.fixture
def stack(tmp_path: Path, redis_db_url: str, mongo_url: str) -> Iterator[Stack]:
    with running_stack(tmp_path, redis_db_url, mongo_url, workers=WORKER_SERVICES) as running:
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
