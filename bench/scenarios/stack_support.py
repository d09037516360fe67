"""What the benchmarks that drive the whole stack share: every process of the local
stack (``devstack.stack.Stack``: Redis, the MongoDB-compatible server, the Graph
emulator, the API, the status recorder and the workers), API tokens of a given role, a
user-like API client that starts jobs and waits for them, and the stack's servers as
``snapshot_support.Servers`` so the tenant generation and churn helpers work on it."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from devstack.stack import Stack, StackConfig

from bench.scenarios.snapshot_support import Servers
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.tokens import Role, TokenRepository

TERMINAL = {"Completed", "Completed with warnings", "Failed", "Canceled"}


@contextlib.contextmanager
def running_stack(
    root: Path,
    *,
    workers: tuple[str, ...] = ("snapshotter", "differ"),
    settings: Mapping[str, str] | None = None,
    step_seconds: float = 30.0,
) -> Iterator[Stack]:
    """Every server and Rewind process of the stack, on free ports, state under ``root``."""
    stack = Stack(
        StackConfig(
            root=root,
            settings={
                "REWIND_MONGO_DATABASE": f"rewind_bench_{uuid.uuid4().hex[:8]}",
                "REWIND_METRICS_PORT": "0",
                **(settings or {}),
            },
            step_seconds=step_seconds,
        )
    )
    try:
        stack.start_redis()
        stack.start_mongo()
        stack.start_emulator()
        stack.start_api()
        stack.start_recorder()
        for worker in workers:
            stack.start_worker(worker)
        yield stack
    finally:
        stack.stop()


def servers_of(stack: Stack) -> Servers:
    """The stack's servers as the snapshot benchmarks' helpers take them."""
    return Servers(
        graph_url=stack.graph_base_url,
        mongo_url=stack.mongo_url,
        redis_url=stack.redis_url,
        emulator=stack.processes["emulator"],
    )


def create_token(stack: Stack, role: Role, name: str = "bench") -> str:
    """A new API token of ``role``, written where the API reads tokens."""

    async def create() -> str:
        mongo = Mongo(stack.mongo_url, stack.database)
        try:
            secret, _ = await TokenRepository(mongo).create(f"{name}-{role.value}", role)
        finally:
            await mongo.close()
        return secret

    return asyncio.run(create())


class ApiUser:
    """The API as an operator uses it: start jobs, wait for them to end."""

    def __init__(self, stack: Stack, role: Role = Role.OPERATOR) -> None:
        self.token = create_token(stack, role)
        self.http = httpx.Client(
            base_url=stack.api_url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
        )
        self.tenant = f"/v1/tenants/{stack.config.tenant_id}"

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **params: Any) -> Any:
        answer = self.http.get(f"{self.tenant}{path}", params=params or None)
        answer.raise_for_status()
        return answer.json()

    def start(self, path: str, body: Mapping[str, Any]) -> str:
        """POST a job-creating route; the new job's id."""
        answer = self.http.post(f"{self.tenant}{path}", json=dict(body))
        if answer.status_code != 202:
            raise RuntimeError(f"POST {path} answered {answer.status_code}: {answer.text}")
        return str(answer.json()["id"])

    def wait(self, job_id: str, timeout: float = 3600) -> dict[str, Any]:
        """The job once it ended; raises unless it completed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job: dict[str, Any] = self.get(f"/jobs/{job_id}")
            if job["status"] in TERMINAL:
                if not job["status"].startswith("Completed"):
                    raise RuntimeError(f"job {job_id} ended {job['status']}: {job.get('error')}")
                return job
            time.sleep(0.2)
        raise TimeoutError(f"job {job_id} did not end within {timeout:.0f} s")

    def snapshot(self, mode: str | None = None) -> dict[str, Any]:
        """Take a snapshot through the API and wait for it; the finished job."""
        return self.wait(self.start("/snapshots", {"mode": mode} if mode else {}))

    def report(
        self, snapshot_id: str, *, compare_to: str | None = None, scope: Any = None
    ) -> dict[str, Any]:
        """Run a difference report through the API and wait for it; the finished job."""
        body: dict[str, Any] = {"snapshotId": snapshot_id}
        if compare_to:
            body["compareTo"] = compare_to
        if scope is not None:
            body["scope"] = scope
        return self.wait(self.start("/difference-reports", body))
