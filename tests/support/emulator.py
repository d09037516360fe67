"""The Graph emulator as a real process, for tests that need a real socket between the
Graph client and Graph."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
from devstack.processes import ManagedProcess, free_port

DEMO_TENANT = "11111111-2222-4333-8444-555555555555"


@contextlib.contextmanager
def running_emulator(log_dir: Path) -> Iterator[str]:
    """``graph-emulator`` with the demo tenant on a free port; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/_emulator/config", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    process = ManagedProcess(
        "graph-emulator",
        [
            sys.executable, "-m", "graph_emulator", "--host", "127.0.0.1", "--port", str(port),
            "--tenant-id", DEMO_TENANT, "--seed-demo",
        ],
        log_path=log_dir / "emulator.log",
        ready=ready,
        ready_timeout=30,
    )  # fmt: skip
    process.start()
    try:
        yield base
    finally:
        process.stop()
