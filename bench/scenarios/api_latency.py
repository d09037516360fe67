"""API latency under 50 concurrent clients (DESIGN sections 7 and 10).

The whole stack runs as processes (Redis, the MongoDB-compatible server, the Graph
emulator, the API, the status recorder, the snapshotter and the differ). A generated
tenant is backed up three times through the API, with 1% of its users changed between
backups, and two difference reports are run (the live tenant and the last backup against
the first), so every read route has something to read.

Then 50 clients, each with its own connection, send requests for a fixed time, a reader
token on reads and an operator token on job-creating POSTs, drawing what they do next
from ``MIX``: list snapshots, read one, browse a type's objects following the ``next``
cursor for a few pages, read one object, list jobs, read one, page through a report's
changes, and a small share of POSTs starting a scoped difference report or an on-demand
snapshot. Those POSTs share the tenant's budget of new jobs per minute
(``REWIND_JOB_RATE_LIMIT_PER_MINUTE``, 60 by default): a 429 is counted on its own, not
as an error, and the client that received it waits out ``Retry-After`` before starting
another job (it keeps reading meanwhile). The jobs started run on the stack's workers
during the measurement, as they would in use.

Two runs of the same clients, after a run of one client alone (back to back, what a
request costs when nothing else runs; recorded, not checked):

1. **Back to back**: each client sends its next request as soon as the last one is
   answered, so 50 requests are always in flight; the stack's throughput sets the
   latency (Little's law: 50 / throughput).
2. **Paced**: each client waits a random time (exponential, mean ``THINK_SECONDS``)
   between requests, as people and scripts reading results do; the stack is not
   saturated and latency is what a request costs while 50 clients use it.

Targets, over every answered request but the 429s:

- paced: p50 ≤ 50 ms and p99 ≤ 500 ms, what 50 clients using the API see;
- back to back: at least ``THROUGHPUT_TARGET`` answers a second, and p99 ≤ 1 s (no
  request starved while the stack is saturated). Its p50 is recorded, not checked: with
  50 requests always in flight it is 50 divided by the throughput, so a p50 target
  there is a throughput target in disguise (50 ms would take 1,000 answers a second
  from two cores shared with the whole stack and the clients), and its p99 follows the
  throughput the same way (about three times the p50);
- both: no 5xx answer, nor request left unanswered.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import threading
import time
from argparse import Namespace
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import psutil
from devstack.stack import Stack

from bench.harness import Check, ScenarioResult
from bench.scenarios.snapshot_support import change_users, emulator_call, scaled
from bench.scenarios.stack_support import ApiUser, create_token, running_stack, servers_of
from rewind_common.storage.tokens import Role

NAME = "api_latency"
DESCRIPTION = (
    "API p50/p99 latency under 50 concurrent clients over a read mix with a small share of "
    "job-creating POSTs, the whole stack as processes"
)

CLIENTS = 50
#: Seconds measured, after ``WARMUP_SECONDS`` of the same load that are not.
DURATION_SECONDS = 60.0
WARMUP_SECONDS = 5.0
P50_TARGET_MS = 50.0
P99_TARGET_MS = 500.0
#: Answers a second 50 back-to-back clients must get (p50 then at most 50 / 150 s).
THROUGHPUT_TARGET = 150.0
SATURATED_P99_TARGET_MS = 1000.0
#: Pages a client follows through ``next`` before it browses something else.
BROWSE_PAGES = 5
REQUEST_TIMEOUT_SECONDS = 30.0
#: Mean pause of a paced client between two requests.
THINK_SECONDS = 1.0

#: What a client does next, in percent: reads, and 2% job-creating POSTs.
MIX: dict[str, float] = {
    "GET snapshots": 12,
    "GET snapshot": 12,
    "GET objects": 28,
    "GET object": 8,
    "GET jobs": 10,
    "GET job": 12,
    "GET changes": 16,
    "POST difference-reports": 1.6,
    "POST snapshots": 0.4,
}
POSTS = frozenset(route for route in MIX if route.startswith("POST"))


@dataclass
class Catalogue:
    """What the seeded tenant holds, for clients to pick from."""

    snapshots: list[str]
    #: Object ids of the newest snapshot's first page, by type.
    objects: dict[str, list[str]]
    jobs: list[str]
    reports: list[str]


@dataclass
class Sample:
    route: str
    #: HTTP status; 0 when no answer came (timeout, connection error).
    status: int
    ms: float
    #: When the answer came (``time.monotonic()``), to find stretches with none.
    ended: float


@dataclass
class Cursor:
    """A listing a client is paging through."""

    route: str
    path: str
    params: dict[str, str]
    pages_left: int


@dataclass
class Load:
    tenant: str
    catalogue: Catalogue
    operator: str
    measure_from: float
    measure_until: float
    think_seconds: float
    samples: list[Sample] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)
    #: Longest this process went unscheduled while measuring (``PauseWatcher``).
    client_pause_ms: float = 0.0


# -- seeding ---------------------------------------------------------------------------


def seed(stack: Stack, sizes: dict[str, int]) -> tuple[Catalogue, dict[str, Any]]:
    """Three backups with 1% of users changed between them, and two reports."""
    servers = servers_of(stack)
    counts = emulator_call(servers, "POST", "/_emulator/generate", sizes)
    user = ApiUser(stack)
    try:
        first = user.snapshot("full")["snapshotId"]
        for round_number in (1, 2):
            change_users(servers, 0.01, round_number)
            user.snapshot()
        change_users(servers, 0.01, 3)
        snapshots = [s["id"] for s in user.get("/snapshots")["items"]]
        newest = snapshots[0]
        reports = [
            user.report(first)["id"],
            user.report(first, compare_to=newest)["id"],
        ]
        changes = {
            report: sum(
                sum(kinds.values())
                for kinds in user.get(f"/difference-reports/{report}")["summary"].values()
            )
            for report in reports
        }
        detail = user.get(f"/snapshots/{newest}")
        objects: dict[str, list[str]] = {}
        for type_name, count in detail["counts"].items():
            if count:
                page = user.get(f"/snapshots/{newest}/objects", type=type_name)
                objects[type_name] = [item["objectId"] for item in page["items"]]
        jobs = [job["id"] for job in user.get("/jobs")["items"]]
    finally:
        user.close()
    figures = {
        "tenant": counts,
        "snapshots": len(snapshots),
        "snapshotObjects": detail["counts"],
        "reportChanges": list(changes.values()),
        "jobs": len(jobs),
    }
    return Catalogue(snapshots, objects, jobs, reports), figures


# -- the load --------------------------------------------------------------------------


def _request(
    load: Load, rng: random.Random, cursor: Cursor | None, may_post: bool
) -> tuple[str, str, str, dict[str, str] | None, dict[str, Any] | None]:
    """The next request of a client: route, method, path, query, body."""
    routes = [r for r in MIX if may_post or r not in POSTS]
    route = rng.choices(routes, weights=[MIX[r] for r in routes])[0]
    tenant, known = load.tenant, load.catalogue
    if cursor is not None and route == cursor.route:
        return route, "GET", cursor.path, cursor.params, None
    snapshot = rng.choice(known.snapshots)
    if route == "GET snapshots":
        return route, "GET", f"{tenant}/snapshots", None, None
    if route == "GET snapshot":
        return route, "GET", f"{tenant}/snapshots/{snapshot}", None, None
    if route == "GET objects":
        type_name = rng.choice(sorted(known.objects))
        return route, "GET", f"{tenant}/snapshots/{snapshot}/objects", {"type": type_name}, None
    if route == "GET object":
        type_name = rng.choice(sorted(known.objects))
        object_id = rng.choice(known.objects[type_name])
        path = f"{tenant}/snapshots/{known.snapshots[0]}/objects/{type_name}/{object_id}"
        return route, "GET", path, None, None
    if route == "GET jobs":
        return route, "GET", f"{tenant}/jobs", None, None
    if route == "GET job":
        return route, "GET", f"{tenant}/jobs/{rng.choice(known.jobs)}", None, None
    if route == "GET changes":
        report = rng.choice(known.reports)
        return route, "GET", f"{tenant}/difference-reports/{report}/changes", None, None
    if route == "POST difference-reports":
        users = known.objects.get("user", [])
        scope = {"objects": [{"type": "user", "ids": rng.sample(users, min(3, len(users)))}]}
        body = {"snapshotId": known.snapshots[0], "scope": scope}
        return route, "POST", f"{tenant}/difference-reports", None, body
    return route, "POST", f"{tenant}/snapshots", None, {}


async def client(load: Load, http: httpx.AsyncClient, seed_value: int) -> None:
    rng = random.Random(seed_value)
    cursor: Cursor | None = None
    post_after = 0.0
    while (started := time.monotonic()) < load.measure_until:
        route, method, path, params, body = _request(
            load, rng, cursor, may_post=started >= post_after
        )
        headers = {"Authorization": f"Bearer {load.operator}"} if method == "POST" else None
        begin = time.perf_counter()
        retry_after = "1"
        try:
            answer = await http.request(method, path, params=params, json=body, headers=headers)
            status, retry_after = answer.status_code, answer.headers.get("Retry-After", "1")
            payload: Any = answer.json() if answer.content else None
        except httpx.HTTPError:
            status, payload = 0, None
        elapsed_ms = (time.perf_counter() - begin) * 1000
        if started >= load.measure_from:
            load.samples.append(Sample(route, status, elapsed_ms, time.monotonic()))
        if status == 429:
            post_after = time.monotonic() + float(retry_after)
        elif method == "POST" and status == 202:
            load.created[route] += 1
            load.catalogue.jobs.append(str(payload["id"]))
        if route in ("GET objects", "GET changes"):
            following = payload.get("next") if status == 200 else None
            if cursor is None or cursor.route != route:
                cursor = Cursor(route, path, dict(params or {}), BROWSE_PAGES)
            cursor.pages_left -= 1
            if following and cursor.pages_left > 0:
                cursor.params["cursor"] = following
            else:
                cursor = None
        if load.think_seconds:
            await asyncio.sleep(rng.expovariate(1 / load.think_seconds))


class PauseWatcher:
    """The longest the clients' own process went without running, while it watches.

    A thread sleeps a few milliseconds at a time and keeps the longest overshoot. When
    every request stops being answered for seconds, this tells a stalled stack (the
    clients ran and waited) from a frozen machine or a starved client process (they did
    not run either, and their latencies include the freeze).
    """

    TICK_SECONDS = 0.02

    def __init__(self) -> None:
        self.longest_ms = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> PauseWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.TICK_SECONDS):
            now = time.monotonic()
            self.longest_ms = max(self.longest_ms, (now - last - self.TICK_SECONDS) * 1000)
            last = now


def longest_silence(samples: list[Sample], start: float, end: float) -> tuple[float, float]:
    """The longest stretch of ``[start, end]`` in which no answer came: (ms, offset s)."""
    moments = [start, *sorted(s.ended for s in samples if start <= s.ended <= end), end]
    gap, at = max((after - before, before) for before, after in pairwise(moments))
    return round(gap * 1000, 1), round(at - start, 1)


def _cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU time used so far by each process of the stack (children included)."""
    used = {}
    for name, process in stack.processes.items():
        if process.pid is None:
            continue
        try:
            root = psutil.Process(process.pid)
            total = 0.0
            for member in [root, *root.children(recursive=True)]:
                times = member.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
        used[name] = total
    return used


async def drive(
    stack: Stack,
    catalogue: Catalogue,
    *,
    clients: int,
    duration: float,
    warmup: float,
    think: float,
) -> tuple[Load, dict[str, float]]:
    """``clients`` clients for ``warmup`` then ``duration`` seconds, the latter measured."""
    reader = await asyncio.to_thread(create_token, stack, Role.READER, "bench-clients")
    operator = await asyncio.to_thread(create_token, stack, Role.OPERATOR, "bench-clients")
    now = time.monotonic()
    load = Load(
        tenant=f"/v1/tenants/{stack.config.tenant_id}",
        catalogue=catalogue,
        operator=operator,
        measure_from=now + warmup,
        measure_until=now + warmup + duration,
        think_seconds=think,
    )
    https = [
        httpx.AsyncClient(
            base_url=stack.api_url,
            headers={"Authorization": f"Bearer {reader}"},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        for _ in range(clients)
    ]
    try:
        tasks = [asyncio.create_task(client(load, http, i)) for i, http in enumerate(https)]
        await asyncio.sleep(max(load.measure_from - time.monotonic(), 0))
        cpu_before, own_before = _cpu_seconds(stack), time.process_time()
        with PauseWatcher() as watcher:
            await asyncio.sleep(max(load.measure_until - time.monotonic(), 0))
        load.client_pause_ms = round(watcher.longest_ms, 1)
        cpu_after, own_after = _cpu_seconds(stack), time.process_time()
        await asyncio.gather(*tasks)
    finally:
        for http in https:
            await http.aclose()
    cpu = {
        name: round((cpu_after[name] - cpu_before[name]) / duration, 3)
        for name in cpu_after
        if name in cpu_before
    }
    cpu["bench clients"] = round((own_after - own_before) / duration, 3)
    return load, cpu


# -- figures ---------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted here)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(int(-(-fraction * len(ordered) // 1)), 1)
    return ordered[min(rank, len(ordered)) - 1]


def latency(values: list[float]) -> dict[str, float]:
    return {
        "requests": len(values),
        "p50Ms": round(percentile(values, 0.50), 1),
        "p95Ms": round(percentile(values, 0.95), 1),
        "p99Ms": round(percentile(values, 0.99), 1),
        "maxMs": round(max(values, default=0.0), 1),
    }


def figures(load: Load, seconds: float) -> dict[str, Any]:
    answered = [s for s in load.samples if s.status and s.status != 429]
    statuses = Counter(str(s.status) for s in load.samples)
    by_route = {}
    for route in MIX:
        mine = [s for s in load.samples if s.route == route]
        by_route[route] = {
            **latency([s.ms for s in mine if s.status and s.status != 429]),
            "rateLimited": sum(1 for s in mine if s.status == 429),
            "errors": sum(1 for s in mine if s.status == 0 or (400 <= s.status != 429)),
        }
    silence_ms, silence_at = longest_silence(load.samples, load.measure_from, load.measure_until)
    return {
        **latency([s.ms for s in answered]),
        "longestSilenceMs": silence_ms,
        "longestSilenceAtSeconds": silence_at,
        "clientProcessLongestPauseMs": load.client_pause_ms,
        "throughputPerSecond": round(len(load.samples) / seconds, 1),
        "answeredPerSecond": round(len(answered) / seconds, 1),
        "rateLimited": statuses.get("429", 0),
        "serverErrors": sum(1 for s in load.samples if s.status >= 500),
        "unanswered": statuses.get("0", 0),
        "clientErrors": sum(1 for s in load.samples if 400 <= s.status < 500 and s.status != 429),
        "statuses": dict(sorted(statuses.items())),
        "jobsCreated": dict(load.created),
        "byRoute": by_route,
    }


def _notes(metrics: dict[str, Any]) -> list[str]:
    alone, busy, paced = metrics["singleClient"], metrics["backToBack"], metrics["paced"]
    cpu = busy["cpuCoresUsed"]
    load = busy["machineLoadAverage"]
    posts = sum(
        busy["byRoute"][route]["requests"] + busy["byRoute"][route]["rateLimited"]
        for route in POSTS
    )
    return [
        f"One client alone is answered in p50 {alone['p50Ms']} ms (p99 {alone['p99Ms']} ms) "
        f"at {alone['answeredPerSecond']} requests/s. Back to back, 50 requests are always "
        f"in flight, so latency is 50 / throughput: {busy['answeredPerSecond']}/s gives "
        f"p50 {busy['p50Ms']} ms. Paced ({paced['thinkSeconds']} s mean pause), "
        f"{paced['answeredPerSecond']} requests/s get p50 {paced['p50Ms']} ms, "
        f"p99 {paced['p99Ms']} ms.",
        "CPU used while 50 clients sent back to back, in cores: "
        + ", ".join(f"{name} {cores}" for name, cores in cpu.items())
        + f"; the machine's load average (every process on it, this stack's included) "
        f"went from {load[0]} to {load[1]} on {os.cpu_count()} cores.",
        f"Longest stretch with no answer at all, back to back: {busy['longestSilenceMs']} ms "
        f"(at {busy['longestSilenceAtSeconds']} s); paced: {paced['longestSilenceMs']} ms. "
        f"The clients' own process went at most {busy['clientProcessLongestPauseMs']} ms and "
        f"{paced['clientProcessLongestPauseMs']} ms without running: a stall the clients "
        "ran through is the stack's, one they were frozen in too is the machine's.",
        f"Job-creating POSTs share the tenant's budget of new jobs a minute: "
        f"{busy['rateLimited']} of {posts} back to back and {paced['rateLimited']} paced "
        "were answered 429 with Retry-After; they are counted apart, left out of the "
        "percentiles, and the jobs the others started ran on the workers meanwhile.",
    ]


def run(options: Namespace) -> ScenarioResult:
    quick = getattr(options, "quick", False)
    sizes = scaled(100) if quick else scaled(10)
    duration, warmup = (10.0, 2.0) if quick else (DURATION_SECONDS, WARMUP_SECONDS)
    result = ScenarioResult(NAME, DESCRIPTION)
    #: name: clients, measured seconds, think time
    runs = {
        "singleClient": (1, duration / 3, 0.0),
        "backToBack": (CLIENTS, duration, 0.0),
        "paced": (CLIENTS, duration, THINK_SECONDS),
    }
    with (
        tempfile.TemporaryDirectory(prefix="api-latency-") as tmp,
        running_stack(Path(tmp)) as stack,
    ):
        catalogue, seeded = seed(stack, sizes)
        print(
            f"   seeded {seeded['snapshots']} snapshots of {seeded['tenant']['total']} objects, "
            f"reports with {seeded['reportChanges']} changes",
            flush=True,
        )
        result.metrics = {
            "clients": CLIENTS,
            "durationSeconds": duration,
            "warmupSeconds": warmup,
            "mixPercent": MIX,
            "seeded": seeded,
        }
        for name, (clients, seconds, think) in runs.items():
            load_before = os.getloadavg()[0]
            load, cpu = asyncio.run(
                drive(
                    stack,
                    catalogue,
                    clients=clients,
                    duration=seconds,
                    warmup=warmup,
                    think=think,
                )
            )
            measured = {
                "clients": clients,
                "seconds": seconds,
                "thinkSeconds": think,
                **figures(load, seconds),
                "cpuCoresUsed": cpu,
                "machineLoadAverage": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            }
            result.metrics[name] = measured
            print(
                f"   {name}: {measured['requests']} answered in {seconds:.0f} s "
                f"({measured['answeredPerSecond']}/s): p50 {measured['p50Ms']} ms, "
                f"p95 {measured['p95Ms']} ms, p99 {measured['p99Ms']} ms, "
                f"max {measured['maxMs']} ms; {measured['rateLimited']} answered 429, "
                f"{measured['serverErrors']} 5xx",
                flush=True,
            )
    result.notes += _notes(result.metrics)
    busy, paced = result.metrics["backToBack"], result.metrics["paced"]
    result.checks += [
        Check(
            "answers per second, 50 clients back to back",
            busy["answeredPerSecond"],
            THROUGHPUT_TARGET,
            "requests/s",
            kind="min",
        ),
        Check("p99 latency, 50 clients back to back", busy["p99Ms"], SATURATED_P99_TARGET_MS, "ms"),
        Check("p50 latency, 50 clients paced", paced["p50Ms"], P50_TARGET_MS, "ms"),
        Check("p99 latency, 50 clients paced", paced["p99Ms"], P99_TARGET_MS, "ms"),
    ]
    for measured, label in ((busy, "back to back"), (paced, "paced")):
        result.checks.append(
            Check(
                f"5xx answers and unanswered requests, {label}",
                measured["serverErrors"] + measured["unanswered"],
                0,
                "requests",
            )
        )
    return result
