"""What the snapshot benchmarks share: the servers as processes (Graph emulator, Redis,
the MongoDB-compatible server), a snapshot job driven through ``JobRunner`` in this
process, and a bare paging client as the baseline.

The baseline reads what a snapshot reads, with the requests a snapshot sends (delta
rounds with the same ``$select``, the recycle bin, owners of applications and service
principals, the latter in parts, a round of every part's next page to a ``$batch``; app
role assignments 20 service principals to a ``$batch``), a type at a time, and keeps
nothing: through msgraph-sdk's request adapter and msgraph-core's default middleware (a
bare msgraph-sdk paging client that skips the typed models), or over plain httpx. Both
parse answers with stdlib JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx
import psutil
import redis.asyncio as aioredis
from devstack.processes import ManagedProcess, free_port
from devstack.servers import emulator_server, mongo_server, redis_server
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from kiota_abstractions.method import Method
from kiota_abstractions.native_response_handler import NativeResponseHandler
from kiota_abstractions.request_information import RequestInformation
from kiota_http.middleware.options.response_handler_option import ResponseHandlerOption
from msgraph.generated.users.delta.delta_request_builder import DeltaRequestBuilder
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from rewind_common.ids import new_id
from rewind_common.jobs.control import JobControl
from rewind_common.jobs.model import Job, JobKind
from rewind_common.jobs.runner import JobRunner
from rewind_common.jobs.worker import WorkerContext, graph_opener, tune_gc_for_jobs
from rewind_common.registry import ALL_TYPES, Listing, get_type
from rewind_common.settings import CredentialKind, Settings, TenantConnection
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.snapshots import SnapshotRecord
from rewind_common.tasks import SnapshotPayload
from rewind_common.tenant import plans
from rewind_snapshotter.snapshot.handler import SnapshotHandler, snapshot_job_store

TENANT_ID = "8b5b1d58-7f0e-4a9b-9a3c-2d4f6e8a1c01"

#: About 100,000 objects shaped like a real tenant: mostly users and groups, some
#: thousands of service principals (Microsoft's own are in every tenant), grants and app
#: role assignments generated with them.
LARGE = {
    "users": 80_000,
    "groups": 12_000,
    "membersPerGroup": 20,
    "applications": 1_500,
    "servicePrincipals": 3_000,
    "conditionalAccessPolicies": 50,
    "namedLocations": 20,
    "seed": 1,
}
_FIXED = ("membersPerGroup", "seed")


def scaled(divisor: int) -> dict[str, int]:
    return {k: v if k in _FIXED else max(v // divisor, 1) for k, v in LARGE.items()}


@dataclass
class Servers:
    graph_url: str
    mongo_url: str
    redis_url: str
    emulator: ManagedProcess
    #: The server processes by role (``emulator``, ``database``, ``redis``).
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    #: Where the MongoDB-compatible server keeps its data.
    database_data: Path | None = None


def fresh_database(servers: Servers) -> None:
    """The MongoDB-compatible server restarted on an empty data directory, for a run that
    must not pay for the runs before it: SecantusDB's CPU for the same snapshot grows
    with the snapshots it has stored (dropping their databases does not help)."""
    database = servers.processes["database"]
    database.stop()
    if servers.database_data is not None:
        shutil.rmtree(servers.database_data, ignore_errors=True)
    database.start()


class CpuMeter:
    """CPU time (user + system) the servers and this process spend over a block of work:
    on a shared machine, where each side's time goes."""

    def __init__(self, servers: Servers, this_process: str) -> None:
        self._processes = {
            role: psutil.Process(process.pid)
            for role, process in servers.processes.items()
            if process.pid is not None
        }
        self._this_process = this_process
        self.seconds: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        times = {self._this_process: time.process_time()}
        for role, process in self._processes.items():
            spent = process.cpu_times()
            times[role] = spent.user + spent.system
        return times

    def __enter__(self) -> CpuMeter:
        self._start = self._now()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._now()
        self.seconds = {role: round(end[role] - self._start[role], 2) for role in end}


@contextlib.contextmanager
def servers() -> Iterator[Servers]:
    """The emulator, Redis and the MongoDB-compatible server, each a process."""
    with tempfile.TemporaryDirectory(prefix="snapshot-bench-") as tmp:
        root = Path(tmp)
        port = free_port()

        emulator = emulator_server(port, root / "emulator")
        mongo_port, redis_port = free_port(), free_port()
        processes = {
            "emulator": emulator.start(),
            "database": mongo_server(mongo_port, root / "mongodb").start(),
            "redis": redis_server(redis_port, root / "redis").start(),
        }
        started = list(processes.values())
        try:
            yield Servers(
                graph_url=f"http://127.0.0.1:{port}/v1.0",
                mongo_url=f"mongodb://127.0.0.1:{mongo_port}",
                redis_url=f"redis://127.0.0.1:{redis_port}/0",
                emulator=emulator,
                processes=processes,
                database_data=root / "mongodb" / "data",
            )
        finally:
            for process in reversed(started):
                process.stop()


def emulator_call(servers: Servers, method: str, path: str, body: Any = None) -> Any:
    base = servers.graph_url.rsplit("/v1.0", 1)[0]
    answer = httpx.request(method, f"{base}{path}", json=body, timeout=600)
    answer.raise_for_status()
    return answer.json() if answer.content else None


# -- the baseline -------------------------------------------------------------------------


class _Reader(Protocol):
    """How a baseline sends its requests: a GET of a URL and a POST of a JSON body,
    each answered with the parsed JSON of a 2xx answer."""

    async def get(self, url: str, params: dict[str, str] | None) -> Any: ...

    async def post(self, url: str, body: Any) -> Any: ...


class _HttpxReader:
    """Plain httpx and stdlib JSON: the least a Python client can do per request."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def get(self, url: str, params: dict[str, str] | None) -> Any:
        return (await self._client.get(url, params=params)).raise_for_status().json()

    async def post(self, url: str, body: Any) -> Any:
        return (await self._client.post(url, json=body)).raise_for_status().json()


class _SdkReader:
    """msgraph-sdk's request adapter over msgraph-core's default middleware (retries,
    redirects, parameter decoding, user agent, ...), answers as raw bytes parsed by
    stdlib JSON: a bare msgraph-sdk paging client without the typed models (see
    ``users_read`` for what those cost)."""

    def __init__(self, client: httpx.AsyncClient, graph_url: str) -> None:
        http = GraphClientFactory.create_with_default_middleware(client=client)
        self._adapter = GraphRequestAdapter(AnonymousAuthenticationProvider(), client=http)
        self._adapter.base_url = graph_url

    async def _send(self, method: Method, url: str, body: Any = None) -> Any:
        info = RequestInformation()
        info.http_method = method
        info.url = url
        info.headers.try_add("Accept", "application/json")
        if body is not None:
            info.headers.try_add("Content-Type", "application/json")
            info.content = json.dumps(body).encode("utf-8")
        info.add_request_options([ResponseHandlerOption(NativeResponseHandler())])
        answer: httpx.Response = await self._adapter.send_primitive_async(info, "bytes", {})
        return answer.raise_for_status().json()

    async def get(self, url: str, params: dict[str, str] | None) -> Any:
        if params:
            url += "?" + urlencode(params, safe="$(),'=")
        return await self._send(Method.GET, url)

    async def post(self, url: str, body: Any) -> Any:
        return await self._send(Method.POST, url, body)


async def bare_read(graph_url: str, concurrency: int = 8, *, through_sdk: bool = False) -> int:
    """Read everything a snapshot reads, keeping nothing; returns the objects read.
    ``through_sdk``: through msgraph-sdk's adapter and middleware, else plain httpx."""
    read = 0
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=600) as client:
        reader: _Reader = _SdkReader(client, graph_url) if through_sdk else _HttpxReader(client)

        async def pages(url: str, params: dict[str, str] | None) -> AsyncIterator[dict[str, Any]]:
            nonlocal read
            next_url: str | None = url
            while next_url:
                body = await reader.get(next_url, params)
                params = None
                read += len(body.get("value", []))
                yield body
                next_url = body.get("@odata.nextLink")

        async def batch(urls: list[str]) -> list[dict[str, Any]]:
            """The answers to GETs of ``urls``, 20 to a $batch, in the order asked."""

            async def one(chunk: list[str]) -> list[dict[str, Any]]:
                async with semaphore:
                    requests = [
                        {"id": str(i), "method": "GET", "url": u} for i, u in enumerate(chunk)
                    ]
                    body = await reader.post(f"{graph_url}/$batch", {"requests": requests})
                    return sorted(body["responses"], key=lambda answer: int(answer["id"]))

            chunks = [urls[i : i + 20] for i in range(0, len(urls), 20)]
            answers = await asyncio.gather(*(one(chunk) for chunk in chunks))
            return [answer for chunk in answers for answer in chunk]

        for object_type in ALL_TYPES:
            if object_type.listing is Listing.SINGLETON:
                await reader.get(graph_url + object_type.path, None)
                read += 1
                continue
            if object_type.listing is Listing.PER_PARENT:
                params = {"$select": "id", "$top": str(plans.PARENT_PAGE)}
                async for page in pages(f"{graph_url}/servicePrincipals", params):
                    path = object_type.path
                    await batch([path.replace("{parentId}", sp["id"]) for sp in page["value"]])
                continue
            if object_type.delta_path:
                delta = plans.delta_params(object_type) or None
                async for _ in pages(graph_url + object_type.delta_path, delta):
                    pass
            else:
                listing = plans.list_params(object_type, expand=plans.expanded_link(object_type))
                async for _ in pages(graph_url + object_type.path, listing or None):
                    pass
            deleted = plans.deleted_path(object_type)
            if deleted:
                async for _ in pages(graph_url + deleted, plans.deleted_params(object_type)):
                    pass
            untracked = plans.links_not_in_delta(object_type.name) if object_type.delta_path else ()
            for link in untracked:
                params = plans.link_list_params(object_type, link)
                path, navigation = object_type.path, link.navigation
                parts = plans.list_parts(object_type.name)
                listed: list[dict[str, Any]] = []
                if parts:  # a round of every part's next page to a $batch
                    round_urls = [
                        f"{path}?{urlencode({**params, '$filter': where}, safe=_SAFE)}"
                        for where in parts.values()
                    ]
                    while round_urls:
                        answers = await batch(round_urls)
                        listed = [answer["body"] for answer in answers]
                        read += sum(len(body["value"]) for body in listed)
                        round_urls = [
                            body["@odata.nextLink"].removeprefix(graph_url)
                            for body in listed
                            if "@odata.nextLink" in body
                        ]
                        await batch(_cut_short(listed, path, navigation))
                    continue
                async for page in pages(graph_url + path, params):
                    await batch(_cut_short([page], path, navigation))
    return read


_SAFE = "$(),'="


def _cut_short(pages: list[dict[str, Any]], path: str, navigation: str) -> list[str]:
    """Reads of the expanded lists Graph may have cut at 20."""
    cut = [o["id"] for page in pages for o in page["value"] if len(o[navigation]) >= 20]
    return [f"{path}/{i}/{navigation}?$select=id&$top=999" for i in cut]


async def users_read(graph_url: str, *, typed: bool) -> int:
    """The tenant's users, read the way a snapshot reads them (one delta round, the same
    ``$select``), with msgraph-sdk into its typed models (``typed``: what a bare
    msgraph-sdk paging client does) or as the baseline does, over plain httpx; returns
    the users read."""
    params = plans.delta_params(get_type("user"))
    read = 0
    if not typed:
        async with httpx.AsyncClient(timeout=600) as client:
            answer = await client.get(f"{graph_url}/users/delta", params=params)
            while True:
                body = answer.raise_for_status().json()
                read += len(body["value"])
                if "@odata.nextLink" not in body:
                    return read
                answer = await client.get(body["@odata.nextLink"])
    adapter = GraphRequestAdapter(AnonymousAuthenticationProvider())
    adapter.base_url = graph_url
    delta = GraphServiceClient(request_adapter=adapter).users.delta
    query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
        select=params["$select"].split(",")
    )
    page = await delta.get(
        DeltaRequestBuilder.DeltaRequestBuilderGetRequestConfiguration(query_parameters=query)
    )
    while page is not None:
        read += len(page.value or [])
        page = await delta.with_url(page.odata_next_link).get() if page.odata_next_link else None
    return read


# -- the snapshot --------------------------------------------------------------------------


class PeakMemory:
    """The most memory Python held during a block, above what it held before it
    (tracemalloc: resident memory does not shrink after a first run, so it cannot tell
    one run's needs from another's)."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self.growth_mb = 0.0

    def __enter__(self) -> PeakMemory:
        if self._enabled:
            gc.collect()
            tracemalloc.start()
            self._start = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            self.growth_mb = (peak - self._start) / 1e6


@dataclass
class Taken:
    record: SnapshotRecord
    seconds: float
    steps: int
    memory_mb: float
    #: CPU time of this process (the worker's share of the work).
    cpu_seconds: float


async def take_snapshot(
    servers: Servers, database: str, mode: str | None = None, *, trace_memory: bool = False
) -> Taken:
    """One snapshot job, run to its end through ``JobRunner`` as a worker runs it (with
    ``trace_memory``, slower, also the most memory it needed)."""
    tenant = TenantConnection(
        tenant_id=TENANT_ID, graph_base_url=servers.graph_url, credential=CredentialKind.NONE
    )
    settings = Settings(
        mongo_url=servers.mongo_url,
        mongo_database=database,
        redis_url=servers.redis_url,
        tenants=(tenant,),
    )
    mongo = Mongo(servers.mongo_url, database)
    redis = aioredis.Redis.from_url(servers.redis_url)
    store = snapshot_job_store(mongo, settings)  # as the worker's snapshot jobs do
    await store.ensure_indexes()
    jobs = JobRepository(mongo)

    job_id, snapshot_id = new_id(), new_id()
    await jobs.insert(Job(id=job_id, tenant_id=TENANT_ID, kind=JobKind.SNAPSHOT))
    payload = SnapshotPayload(
        job_id=job_id, tenant_id=TENANT_ID, snapshot_id=snapshot_id, mode=mode
    ).dump()
    context = WorkerContext(
        settings=settings,
        mongo=mongo,
        redis=redis,
        jobs=jobs,
        control=JobControl(redis),
        publish=lambda task, message: None,
    )
    runner = JobRunner(
        jobs, context.control, context.publish, step_seconds=settings.job_step_seconds
    )
    # Graph as the worker reads it: the tenant's budget shared through Redis, and metrics.
    handler = SnapshotHandler(settings, store, graph_opener(context))
    tune_gc_for_jobs()  # as the worker does
    steps = 0
    try:
        with PeakMemory(trace_memory) as memory:
            started, cpu_started = time.perf_counter(), time.process_time()
            while True:
                steps += 1
                decision = await runner.run_step(job_id, payload, handler)
                if not decision.enqueue_again:
                    break
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
        record = await store.find(snapshot_id)
        if record is None:
            raise RuntimeError(f"the snapshot job {job_id} ended without a snapshot")
        return Taken(record, seconds, steps, memory.growth_mb, cpu_seconds)
    finally:
        gc.unfreeze()
        await redis.aclose()
        await mongo.close()


def change_users(servers: Servers, fraction: float, round_number: int) -> int:
    """Change ``fraction`` of the users (a job title each); returns how many."""
    base = servers.graph_url
    changed = 0
    with httpx.Client(timeout=600) as client:
        ids: list[str] = []
        url: str | None = f"{base}/users?$select=id&$top=999"
        while url:
            body = client.get(url).raise_for_status().json()
            ids.extend(user["id"] for user in body["value"])
            url = body.get("@odata.nextLink")
        step = max(int(1 / fraction), 1)
        for user_id in ids[round_number % step :: step]:
            client.patch(f"{base}/users/{user_id}", json={"jobTitle": f"Title {round_number}"})
            changed += 1
    return changed
