"""A full difference report (every object, against the live tenant) on a 10k and a
100k-object tenant with 1% of users, groups and applications changed (a tenth of those
deleted): how long it takes next to the full snapshot of the same tenant, how much the
peak memory it allocates, and how many Graph requests it sends."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from argparse import Namespace
from typing import Any

from bench.harness import Check, ScenarioResult
from bench.scenarios.diff_common import Bench, bench_environment, scaled, timed

NAME = "diff_full"
DESCRIPTION = (
    "Full difference report against the live tenant, 1% changed: 10k and 100k objects; "
    "time next to a full snapshot, peak memory, Graph requests"
)


async def _measure(bench: Bench, params: dict[str, int]) -> dict[str, Any]:
    counts = bench.generate(params)
    start = timed()
    snapshot = await bench.snapshot()
    snapshot_seconds = timed() - start
    touched = bench.churn(0.01)
    bench.stats(reset=True)
    start = timed()
    job = await bench.diff(snapshot.id)
    report_seconds = timed() - start
    stats = bench.stats()
    assert job.status.value == "Completed", job.error
    # Memory from a second, identical report under tracemalloc: what the report itself
    # allocates at its peak (RSS would hide it in memory the snapshot freed), at the
    # cost of a slower run that is not timed.
    gc.collect()
    tracemalloc.start()
    again = await bench.diff(snapshot.id)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert again.counters.get("changes") == job.counters.get("changes")
    return {
        "objects": int(counts["total"]),
        "snapshotSeconds": round(snapshot_seconds, 2),
        "reportSeconds": round(report_seconds, 2),
        "reportVsSnapshot": round(report_seconds / snapshot_seconds, 3),
        "changesFound": job.counters.get("changes", 0),
        "objectsChanged": sum(touched.values()),
        "peakAllocatedMb": round(peak / 1e6, 1),
        "graphRequests": stats.get("requests"),
        "graphResourceUnits": stats.get("resourceUnits"),
        "byRoute": stats.get("byRoute"),
    }


async def _run(sizes: dict[str, dict[str, int]]) -> dict[str, dict[str, Any]]:
    figures = {}
    for label, params in sizes.items():
        async with bench_environment() as bench:
            figures[label] = await _measure(bench, params)
        f = figures[label]
        print(
            f"   {label}: {f['objects']} objects, snapshot {f['snapshotSeconds']} s, "
            f"report {f['reportSeconds']} s ({f['changesFound']} changes), "
            f"peak allocated {f['peakAllocatedMb']} MB",
            flush=True,
        )
    return figures


def run(options: Namespace) -> ScenarioResult:
    result = ScenarioResult(NAME, DESCRIPTION)
    quick = getattr(options, "quick", False)
    sizes = (
        {"1k": scaled(100), "2k": scaled(50)} if quick else {"10k": scaled(10), "100k": scaled(1)}
    )
    figures = asyncio.run(_run(sizes))
    result.metrics.update(
        {k: {n: v for n, v in f.items() if n != "byRoute"} for k, f in figures.items()}
    )
    result.metrics["graphRequestsByRoute100k" if not quick else "graphRequestsByRoute"] = figures[
        list(figures)[-1]
    ]["byRoute"]
    small, large = figures[next(iter(figures))], figures[list(figures)[-1]]
    result.checks.append(
        Check("report time / full snapshot time", large["reportVsSnapshot"], 1.5, "×")
    )
    growth = large["peakAllocatedMb"] / max(small["peakAllocatedMb"], 1.0)
    scale = large["objects"] / small["objects"]
    result.checks.append(Check(f"peak memory, {scale:.0f}× the objects", growth, 2.0, "×"))
    result.notes.append(
        "Target: a full report reads the same data as a full snapshot and compares it, so "
        "it should take about as long (≤ 1.5×); its memory must not grow with the tenant "
        "(≤ 2× for 10× the objects)."
    )
    result.notes.append(
        "The live tenant is read once per type (delta or a listing, then the recycle "
        "bin), staged by id bucket, and merge-joined with the snapshot's sorted manifest: "
        "memory holds one bucket of one type, never the tenant. Users and groups are read "
        "through delta as the backup was, so unchanged ones are skipped by hash; other "
        "types are listed, and their bodies (in another shape than delta's) compared."
    )
    return result
