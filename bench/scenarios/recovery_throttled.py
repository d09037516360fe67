"""Recovery of 1,000 changes with Graph's write throttling on, as real processes.

A generated tenant is backed up through the API; then 1,000 changes are made (users'
attributes overwritten, members removed from groups) and ``POST /recoveries`` takes the
tenant back, with the emulator enforcing Graph's identity throttling (writes per 150 s
per app and tenant, Conditional Access 1/s) and the recoverer sharing the same budget
through Redis. The emulator's write counter is sampled while the recovery runs.

Two runs:

1. **Graph's limits** (3,000 writes / 150 s = 20/s): the ~1,000 writes fit in one
   window, so nothing holds the recoverer back but itself: the figure is its own write
   rate, which must reach the budget's 20/s (at 90%) for the budget to be the limit.
2. **Window binding**: the window scaled down to half the recovery's writes (same
   150 s), so the budget runs out half-way and the rest waits for the window to free up.
   The fastest any client can finish is when the window allows the last write (150 s);
   efficiency is that bound over the time the recovery took writing (target ≥ 90%).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import tempfile
import time
import uuid
from argparse import Namespace
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from devstack.processes import ManagedProcess, free_port
from devstack.servers import mongo_server, redis_server
from devstack.stack import Stack, StackConfig

from bench.harness import Check, ScenarioResult
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.tokens import Role, TokenRepository

NAME = "recovery_throttled"
DESCRIPTION = (
    "Recovery of 1,000 changes with Graph's write throttling on: writes per second against "
    "the 20/s budget, and efficiency when the 150 s window binds"
)
GRAPH_WRITES_PER_150S = 3000
WINDOW_SECONDS = 150.0
TERMINAL = {"Completed", "Completed with warnings", "Failed", "Canceled"}


def _tenant(users: int) -> dict[str, int]:
    return {
        "users": users + 50,
        "groups": 20,
        "membersPerGroup": 25,
        "applications": 3,
        "servicePrincipals": 4,
        "conditionalAccessPolicies": 3,
        "namedLocations": 2,
        "seed": 3,
    }


@contextlib.contextmanager
def _servers(root: Path) -> Iterator[tuple[str, str]]:
    redis_port, mongo_port = free_port(), free_port()
    processes: list[ManagedProcess] = [
        redis_server(redis_port, root / "redis").start(),
        mongo_server(mongo_port, root / "mongodb").start(),
    ]
    try:
        yield f"redis://127.0.0.1:{redis_port}/0", f"mongodb://127.0.0.1:{mongo_port}"
    finally:
        for process in reversed(processes):
            process.stop()


def _token(stack: Stack) -> str:
    async def create() -> str:
        mongo = Mongo(stack.mongo_url, stack.database)
        try:
            secret, _ = await TokenRepository(mongo).create("bench", Role.ADMIN)
        finally:
            await mongo.close()
        return secret

    return asyncio.run(create())


class Run:
    def __init__(self, stack: Stack) -> None:
        self.api = httpx.Client(
            base_url=stack.api_url,
            headers={"Authorization": f"Bearer {_token(stack)}"},
            timeout=60,
        )
        self.emulator = httpx.Client(base_url=stack.emulator_url, timeout=600)
        self.tenant = f"/v1/tenants/{stack.config.tenant_id}"

    def wait(self, job_id: str, timeout: float = 1800) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job: dict[str, Any] = self.api.get(f"{self.tenant}/jobs/{job_id}").json()
            if job["status"] in TERMINAL:
                return job
            time.sleep(0.5)
        raise TimeoutError(job_id)

    def writes(self) -> int:
        return int(self.emulator.get("/_emulator/stats").json()["writes"])

    def prepare(self, changes: int) -> tuple[str, int]:
        """Back up, then make ``changes`` changes; returns the snapshot and the count."""
        self.emulator.post("/_emulator/generate", json=_tenant(changes)).raise_for_status()
        started = self.api.post(f"{self.tenant}/snapshots", json={}).json()
        snapshot = self.wait(started["id"])["snapshotId"]
        state = self.emulator.get("/_emulator/state").json()
        made = 0
        for index, user in enumerate(state["types"]["user"]["active"][2:]):
            if made >= changes * 9 // 10:
                break
            self.emulator.patch(
                f"/v1.0/users/{user['id']}", json={"jobTitle": f"Overwritten {index}"}
            ).raise_for_status()
            made += 1
        for group_id, links in state["links"]["group"].items():
            for member in links["members"]:
                if made >= changes:
                    break
                self.emulator.delete(f"/v1.0/groups/{group_id}/members/{member}/$ref")
                made += 1
        return str(snapshot), made

    def recover(self, snapshot: str) -> dict[str, Any]:
        """Recover, sampling the emulator's write counter; figures of the run."""
        base = self.writes()
        started = self.api.post(f"{self.tenant}/recoveries", json={"snapshotId": snapshot}).json()
        samples: list[tuple[float, int]] = []
        while True:
            samples.append((time.monotonic(), self.writes() - base))
            job: dict[str, Any] = self.api.get(f"{self.tenant}/jobs/{started['id']}").json()
            if job["status"] in TERMINAL:
                break
            time.sleep(0.1)
        total = samples[-1][1]
        first = next(t for t, w in samples if w > 0)
        last = next(t for t, w in samples if w >= total)
        stats = self.emulator.get("/_emulator/stats").json()
        return {
            "status": job["status"],
            "writes": total,
            "writingSeconds": max(last - first, 1e-6),
            "throttled": int(stats.get("throttled", 0)),
            "actions": job["progress"]["total"],
        }


def _run(changes: int, writes_per_150s: int | None, workdir: Path) -> dict[str, Any]:
    with _servers(workdir / uuid.uuid4().hex[:6]) as (redis_url, mongo_url):
        budget = writes_per_150s or GRAPH_WRITES_PER_150S
        stack = Stack(
            StackConfig(
                root=workdir / uuid.uuid4().hex[:6],
                redis_url=redis_url,
                mongo_url=mongo_url,
                settings={
                    "REWIND_METRICS_PORT": "0",
                    "REWIND_GRAPH_WRITES_PER_150S": str(budget),
                },
                step_seconds=30.0,
            )
        )
        try:
            stack.start_emulator()
            stack.start_api()
            stack.start_recorder()
            stack.start_worker("snapshotter")
            stack.start_worker("recoverer")
            run = Run(stack)
            snapshot, made = run.prepare(changes)
            throttling = {"enabled": True, "writesPer150s": budget}
            run.emulator.put("/_emulator/config", json={"throttling": throttling})
            run.emulator.delete("/_emulator/stats")
            figures = run.recover(snapshot)
            figures.update(changes=made, budgetWritesPer150s=budget)
            return figures
        finally:
            stack.stop()


def run(options: Namespace) -> ScenarioResult:
    changes = 100 if options.quick else 1000
    result = ScenarioResult(NAME, DESCRIPTION)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        graph = _run(changes, None, workdir)
        rate = graph["writes"] / graph["writingSeconds"]
        result.metrics["graphLimits"] = {**graph, "writesPerSecond": round(rate, 2)}
        result.checks.append(
            Check("write rate, Graph's 20/s budget", rate, 18.0, "writes/s", kind="min")
        )
        if not options.quick:
            window = max(100, math.ceil(graph["writes"] / 2))
            bound = _run(changes, window, workdir)
            fastest = WINDOW_SECONDS * (math.ceil(bound["writes"] / window) - 1)
            efficiency = fastest / bound["writingSeconds"] if fastest else 0.0
            rate = bound["writes"] / bound["writingSeconds"]
            result.metrics["windowBinding"] = {
                **bound,
                "writesPerSecond": round(rate, 2),
                "fastestPossibleSeconds": fastest,
                "efficiency": round(efficiency, 4),
            }
            result.checks.append(
                Check("efficiency, window binding", efficiency, 0.9, "× bound", kind="min")
            )
    for name, figures in result.metrics.items():
        result.notes.append(
            f"{name}: {figures['changes']} changes, {figures['actions']} actions, "
            f"{figures['writes']} writes in {figures['writingSeconds']:.1f} s, "
            f"{figures['throttled']} answered 429, status {figures['status']}"
        )
    return result
