"""The emulator as a real process: ``graph-emulator --host --port --tenant-id --seed-demo``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.emulator import DEMO_TENANT as TENANT
from tests.support.emulator import running_emulator


@pytest.fixture(scope="module")
def emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_emulator(Path(tmp_path_factory.mktemp("emulator"))) as base:
        yield base


def test_serves_graph_with_the_demo_tenant(emulator_process: str) -> None:
    with httpx.Client(base_url=emulator_process) as client:
        org = client.get("/v1.0/organization").json()["value"][0]
        assert org["id"] == TENANT
        users = client.get("/v1.0/users?$top=999").json()
        assert len(users["value"]) == 60
        # Links carry the host and port the request came to.
        first = client.get("/v1.0/users?$top=10").json()
        assert first["@odata.nextLink"].startswith(f"{emulator_process}/v1.0/users?")
        assert client.get(first["@odata.nextLink"]).status_code == 200
        snapshot = client.get("/_emulator/state").json()
        assert snapshot["tenantId"] == TENANT


def test_cli_refuses_a_bad_tenant_id() -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "graph_emulator", "--tenant-id", "not-a-guid"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--tenant-id must be a GUID" in result.stderr
