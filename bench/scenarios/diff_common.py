"""What the difference-report benchmarks share: local Redis and MongoDB-compatible
servers, the Graph emulator as a process, and the snapshotter's and differ's job
handlers run in this process through ``JobRunner``, exactly as a worker runs them
(steps, checkpoints, status messages), so time and memory are the differ's own."""

from __future__ import annotations

import contextlib
import gc
import random
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from devstack.processes import ManagedProcess, free_port
from devstack.servers import emulator_server, mongo_server, redis_server

from rewind_common.graph.client import GraphClient, open_graph_client
from rewind_common.ids import new_id
from rewind_common.jobs.control import JobControl
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import Job, JobKind
from rewind_common.jobs.runner import JobHandler, JobRunner
from rewind_common.jobs.worker import tune_gc_for_jobs
from rewind_common.settings import CredentialKind, Settings, TenantConnection
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.report_staging import ReportStaging
from rewind_common.storage.reports import ReportStore
from rewind_common.storage.snapshots import SnapshotRecord, SnapshotStore
from rewind_common.tasks import DifferenceReportPayload, SnapshotPayload
from rewind_differ.handler import DiffHandler
from rewind_snapshotter.snapshot.handler import SnapshotHandler

TENANT_ID = "8b5b1d58-7f0e-4a9b-9a3c-2d4f6e8a1c01"

#: About 100,000 directory objects, plus grants and assignments (as emulator_scale).
LARGE = {
    "users": 60_000,
    "groups": 10_000,
    "membersPerGroup": 20,
    "applications": 15_000,
    "servicePrincipals": 15_000,
    "conditionalAccessPolicies": 50,
    "namedLocations": 20,
    "seed": 1,
}
_FIXED = ("membersPerGroup", "seed")


def scaled(divisor: int) -> dict[str, int]:
    return {key: value if key in _FIXED else value // divisor for key, value in LARGE.items()}


@dataclass
class Bench:
    settings: Settings
    mongo: Mongo
    redis: aioredis.Redis
    emulator: httpx.Client
    messages: list[StatusMessage] = field(default_factory=list)
    #: One store for every job, so its counters (manifest chunks fetched) add up.
    store: SnapshotStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = SnapshotStore(self.mongo)

    def publish(self, task_name: str, payload: dict[str, Any]) -> None:
        self.messages.append(StatusMessage.model_validate(payload))

    @contextlib.asynccontextmanager
    async def graph(self, tenant: TenantConnection) -> AsyncIterator[GraphClient]:
        async with open_graph_client(tenant, self.settings) as client:
            yield client

    async def run(self, kind: JobKind, payload: Mapping[str, Any], handler: JobHandler) -> Job:
        jobs = JobRepository(self.mongo)
        job = Job(id=str(payload["jobId"]), tenant_id=TENANT_ID, kind=kind, created_by="bench")
        await jobs.insert(job)
        runner = JobRunner(
            jobs, JobControl(self.redis), self.publish, step_seconds=self.settings.job_step_seconds
        )
        tune_gc_for_jobs()  # as the worker does
        try:
            while (await runner.run_step(job.id, payload, handler)).enqueue_again:
                pass
        finally:
            gc.unfreeze()
        for message in self.messages:
            await jobs.apply(message)
        self.messages.clear()
        found = await jobs.find(job.id)
        assert found is not None
        return found

    def generate(self, params: Mapping[str, int]) -> dict[str, Any]:
        response = self.emulator.post("/_emulator/generate", json=dict(params))
        response.raise_for_status()
        counts: dict[str, Any] = response.json()
        return counts

    async def snapshot(self) -> SnapshotRecord:
        payload = SnapshotPayload(job_id=new_id(), tenant_id=TENANT_ID, snapshot_id=new_id())
        handler = SnapshotHandler(self.settings, self.store, self.graph)
        job = await self.run(JobKind.SNAPSHOT, payload.dump(), handler)
        record = await self.store.find(payload.snapshot_id)
        assert record is not None, job.error
        return record

    async def diff(self, snapshot_id: str, scope: dict[str, Any] | None = None) -> Job:
        reports, staging = ReportStore(self.mongo), ReportStaging(self.mongo)
        await reports.ensure_indexes()
        await staging.ensure_indexes()
        payload = DifferenceReportPayload(
            job_id=new_id(), tenant_id=TENANT_ID, snapshot_id=snapshot_id, scope=scope
        )
        handler = DiffHandler(self.settings, self.store, reports, staging, self.graph)
        return await self.run(JobKind.DIFFERENCE_REPORT, payload.dump(), handler)

    def stats(self, reset: bool = False) -> dict[str, Any]:
        if reset:
            self.emulator.delete("/_emulator/stats").raise_for_status()
            return {}
        stats: dict[str, Any] = self.emulator.get("/_emulator/stats").json()
        return stats

    def active_ids(self, type_name: str) -> list[str]:
        """Ids of a type's current objects, read from Graph with a plain client."""
        path = {"user": "/users", "group": "/groups", "application": "/applications"}[type_name]
        url: str | None = f"/v1.0{path}?$select=id&$top=999"
        ids: list[str] = []
        while url:
            body = self.emulator.get(url).json()
            ids += [item["id"] for item in body["value"]]
            url = body.get("@odata.nextLink")
        return ids

    def churn(self, fraction: float, seed: int = 5) -> dict[str, int]:
        """Change ``fraction`` of the users, groups and applications: attributes
        overwritten, a few objects deleted. Returns how many of each were touched."""
        rng = random.Random(seed)
        touched: dict[str, int] = {}
        for type_name, path, body in (
            ("user", "/users", {"jobTitle": "Changed by the benchmark"}),
            ("group", "/groups", {"description": "Changed by the benchmark"}),
            ("application", "/applications", {"notes": "Changed by the benchmark"}),
        ):
            ids = self.active_ids(type_name)
            chosen = rng.sample(ids, max(1, int(len(ids) * fraction)))
            for index, object_id in enumerate(chosen):
                method = "DELETE" if index % 10 == 9 else "PATCH"
                self.emulator.request(
                    method, f"/v1.0{path}/{object_id}", json=body if method == "PATCH" else None
                ).raise_for_status()
            touched[type_name] = len(chosen)
        return touched


@contextlib.asynccontextmanager
async def bench_environment(step_seconds: float = 30.0) -> AsyncIterator[Bench]:
    """Redis, MongoDB and the emulator on free ports, for the length of a scenario."""
    with tempfile.TemporaryDirectory(prefix="diff-bench-") as tmp:
        root = Path(tmp)
        ports: list[int] = []
        while len(ports) < 3:  # the OS may hand out a just-released port twice
            port = free_port()
            if port not in ports:
                ports.append(port)
        redis_port, mongo_port, graph_port = ports
        base = f"http://127.0.0.1:{graph_port}"

        processes = [
            redis_server(redis_port, root / "redis"),
            mongo_server(mongo_port, root / "mongodb"),
            emulator_server(graph_port, root / "emulator", "--tenant-id", TENANT_ID),
        ]
        started: list[ManagedProcess] = []
        try:
            for process in processes:
                started.append(process.start())
            tenant = TenantConnection(
                tenant_id=TENANT_ID, graph_base_url=f"{base}/v1.0", credential=CredentialKind.NONE
            )
            settings = Settings(
                mongo_url=f"mongodb://127.0.0.1:{mongo_port}",
                redis_url=f"redis://127.0.0.1:{redis_port}/0",
                tenants=(tenant,),
                job_step_seconds=step_seconds,
                # No read budget: the largest tenant's report needs about 17,000 resource
                # units, two of Graph's windows; this measures the work, not the quota.
                graph_read_units_per_10s=0,
            )
            mongo = Mongo(settings.mongo_url.get_secret_value(), "rewind_bench")
            redis = aioredis.Redis.from_url(settings.redis_url.get_secret_value())
            await SnapshotStore(mongo).ensure_indexes()
            with httpx.Client(base_url=base, timeout=600) as emulator:
                try:
                    yield Bench(settings, mongo, redis, emulator)
                finally:
                    await redis.aclose()
                    await mongo.close()
        finally:
            for process in reversed(started):
                process.stop()


def timed() -> float:
    return time.perf_counter()
