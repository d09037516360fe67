"""The Graph emulator as a real process, for tests that need a real socket between the
Graph client and Graph."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from devstack.processes import free_port
from devstack.servers import emulator_server

DEMO_TENANT = "11111111-2222-4333-8444-555555555555"


@contextlib.contextmanager
def running_emulator(workdir: Path) -> Iterator[str]:
    """``graph-emulator`` with the demo tenant on a free port; yields its base URL."""
    port = free_port()
    process = emulator_server(port, workdir, "--tenant-id", DEMO_TENANT, "--seed-demo")
    process.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()
