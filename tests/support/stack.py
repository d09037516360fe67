"""The local stack as real processes for end-to-end and fault tests, and a client that
drives it like a user: the API with an admin token, the emulator's Graph and test
endpoints, and ``rewind`` as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from devstack.processes import free_port
from devstack.stack import Stack, StackConfig, console_script

from rewind_common.storage.mongo import Mongo
from rewind_common.storage.tokens import Role, TokenRepository

TERMINAL = {"Completed", "Completed with warnings", "Failed", "Canceled"}


@contextlib.contextmanager
def running_stack(
    root: Path,
    redis_url: str,
    mongo_url: str,
    *,
    workers: tuple[str, ...] = ("snapshotter",),
    settings: Mapping[str, str] | None = None,
    step_seconds: float = 5.0,
    visibility_timeout: int = 300,
    metrics: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """The stack as processes. With ``metrics`` (an empty dict to fill), the recorder and
    each worker serve /metrics as a deployment's do, and ``metrics`` maps each to its
    address."""
    database = f"rewind_e2e_{uuid.uuid4().hex[:10]}"
    running = Stack(
        StackConfig(
            root=root,
            redis_url=redis_url,
            mongo_url=mongo_url,
            settings={
                "REWIND_MONGO_DATABASE": database,
                "REWIND_METRICS_PORT": "0",
                **(settings or {}),
            },
            step_seconds=step_seconds,
            visibility_timeout=visibility_timeout,
        )
    )
    try:
        running.start_emulator()
        running.start_api()
        running.start_recorder(_metrics_env(running, "recorder", metrics))
        for worker in workers:
            running.start_worker(worker, _metrics_env(running, worker, metrics))
        yield running
    finally:
        # What the workers were doing before they were stopped (shown for a failed test);
        # their shutdown would fill a tail read afterwards.
        tails = {
            name: process.tail(80)
            for name, process in running.processes.items()
            if name in workers and process.log_path.exists()
        }
        running.stop()
        for name, tail in tails.items():
            print(f"--- {name} log ---\n{tail}")

        async def drop() -> None:
            mongo = Mongo(mongo_url, database)
            await mongo.client.drop_database(database)
            await mongo.close()

        asyncio.run(drop())


def _metrics_env(stack: Stack, name: str, addresses: dict[str, str] | None) -> dict[str, str]:
    """Settings that make a Celery process serve its (multiprocess) metrics."""
    if addresses is None:
        return {}
    port = free_port()
    addresses[name] = f"http://127.0.0.1:{port}/metrics"
    directory = stack.root / "metrics" / name
    directory.mkdir(parents=True, exist_ok=True)  # samples are written from import on
    return {
        "REWIND_METRICS_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }


def admin_token(stack: Stack) -> str:
    async def create() -> str:
        mongo = Mongo(stack.mongo_url, stack.database)
        try:
            secret, _ = await TokenRepository(mongo).create("e2e", Role.ADMIN)
        finally:
            await mongo.close()
        return secret

    return asyncio.run(create())


class Clients:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.token = admin_token(stack)
        self.api = httpx.Client(
            base_url=stack.api_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )
        self.emulator = httpx.Client(base_url=stack.emulator_url, timeout=60)
        self.tenant_path = f"/v1/tenants/{stack.config.tenant_id}"

    async def graph(self, method: str, path: str, body: Any = None) -> Any:
        response = await asyncio.to_thread(self.emulator.request, method, f"/v1.0{path}", json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.emulator.get("/_emulator/state").json()
        return state

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.emulator.get("/_emulator/stats").json()
        return stats

    def follow(self, job_id: str) -> list[dict[str, Any]]:
        """Every job update the job's event stream sends, until the job ends."""
        jobs: list[dict[str, Any]] = []
        path = f"{self.tenant_path}/jobs/{job_id}/events"
        with self.api.stream("GET", path, timeout=httpx.Timeout(10, read=120)) as response:
            assert response.status_code == 200, response.read()
            data: list[str] = []
            for line in response.iter_lines():
                if line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    job = json.loads("\n".join(data))
                    data = []
                    jobs.append(job)
                    if job["status"] in TERMINAL:
                        break
        return jobs

    def job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self.api.get(f"{self.tenant_path}/jobs/{job_id}").json()
        return job

    def wait(self, job_id: str, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        job: dict[str, Any] = {}
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["status"] in TERMINAL:
                return job
            time.sleep(0.3)
        # where it stands says which step hung (the workers' logs follow at teardown)
        raise TimeoutError(f"job {job_id} did not end within {timeout:.0f}s: {job}")

    def snapshot(self) -> str:
        started = self.api.post(f"{self.tenant_path}/snapshots", json={})
        assert started.status_code == 202, started.text
        job = self.wait(started.json()["id"])
        assert job["status"] == "Completed", job
        return str(job["snapshotId"])

    def recovery(self, recovery_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api.get(f"{self.tenant_path}/recoveries/{recovery_id}").json()
        return found

    def rewind(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "REWIND_API_URL": self.stack.api_url,
            "REWIND_TOKEN": self.token,
            "REWIND_TENANT": self.stack.config.tenant_id,
            "COLUMNS": "200",
        }
        return subprocess.run(
            [console_script("rewind"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
