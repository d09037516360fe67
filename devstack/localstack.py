"""``make up`` / ``make down``: the local stack on the standard ports, state under var/.

``up`` starts Redis, the MongoDB-compatible server, the Graph emulator with a demo tenant,
the API, the status recorder, the three workers and the scheduler, writes an admin token
to var/admin-token and leaves everything running; ``down`` stops it all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from devstack.processes import port_open
from devstack.stack import DEMO_TENANT, WORKER_SERVICES, Stack, StackConfig, console_script

VAR = Path("var")
STATE = VAR / "stack.json"
TOKEN_FILE = VAR / "admin-token"
PORTS = {"api": 8000, "emulator": 8080, "redis": 6379, "mongodb": 27017}


def _busy_ports() -> list[str]:
    return [f"{name} ({port})" for name, port in PORTS.items() if port_open(port)]


def _running() -> dict[str, object] | None:
    """The recorded stack, if its API still answers."""
    if not STATE.exists():
        return None
    state: dict[str, object] = json.loads(STATE.read_text())
    try:
        if httpx.get(f"{state['apiUrl']}/healthz", timeout=2).status_code == 200:
            return state
    except httpx.HTTPError:
        pass
    return None


def up() -> int:
    running = _running()
    if running is not None:
        print(f"the local stack is already up: API {running['apiUrl']}, token in {TOKEN_FILE}")
        return 0
    if STATE.exists():
        print("the previous local stack is gone; cleaning up and starting again")
        down()
    busy = _busy_ports()
    if busy:
        print(f"ports already in use: {', '.join(busy)}", file=sys.stderr)
        return 1
    VAR.mkdir(exist_ok=True)
    stack = Stack(
        StackConfig(
            root=VAR.resolve(),
            redis_url=None,
            mongo_url=None,
            api_port=PORTS["api"],
            emulator_port=PORTS["emulator"],
            settings={"REWIND_METRICS_PORT": "0"},
        )
    )
    started: dict[str, int] = {}
    try:
        _start_servers(stack)
        for process in stack.processes.values():
            if process.pid:
                started[process.name] = process.pid
        _seed_demo_tenant(stack)
        stack.start_api()
        stack.start_recorder()
        for service in WORKER_SERVICES:
            stack.start_worker(service)
        stack.start_scheduler()
    except Exception:
        stack.stop()
        raise
    for process in stack.processes.values():
        if process.pid:
            started[process.name] = process.pid
    STATE.write_text(
        json.dumps({"pids": started, "env": stack.env(), "apiUrl": stack.api_url}, indent=2)
    )
    _write_admin_token(stack)
    (VAR / "rewind.env").write_text(
        "".join(f"export {k}='{v}'\n" for k, v in stack.env().items() if k.startswith("REWIND_"))
    )
    print(f"Rewind API      {stack.api_url}  (token in {TOKEN_FILE})")
    print(f"Graph emulator  {stack.graph_base_url}  (tenant {stack.config.tenant_id})")
    print(f"logs            {VAR / 'logs'}")
    print("try             .venv/bin/rewind snapshot create --wait")
    return 0


def _start_servers(stack: Stack) -> None:
    stack.start_redis()
    stack.start_mongo()
    stack.start_emulator()


def _seed_demo_tenant(stack: Stack) -> None:
    response = httpx.post(f"{stack.emulator_url}/_emulator/generate", json=DEMO_TENANT, timeout=60)
    response.raise_for_status()


def _write_admin_token(stack: Stack) -> None:
    if TOKEN_FILE.exists():
        return
    result = subprocess.run(
        [
            console_script("rewind"),
            "tokens",
            "create",
            "--role",
            "admin",
            "--name",
            "local-admin",
            "--quiet",
        ],
        env={**os.environ, **stack.env()},
        capture_output=True,
        text=True,
        check=True,
    )
    TOKEN_FILE.write_text(result.stdout.strip() + "\n")
    TOKEN_FILE.chmod(0o600)


def down() -> int:
    if not STATE.exists():
        print("the local stack is not running")
        return 0
    pids: dict[str, int] = json.loads(STATE.read_text()).get("pids", {})
    for name, pid in reversed(list(pids.items())):
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            continue
        print(f"stopping {name}")
    deadline = time.monotonic() + 20
    for pid in pids.values():
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except (ProcessLookupError, PermissionError):
                break
            time.sleep(0.2)
        else:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    STATE.unlink()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up", "down"])
    return up() if parser.parse_args().command == "up" else down()


if __name__ == "__main__":
    raise SystemExit(main())
