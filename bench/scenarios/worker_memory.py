"""Peak memory of the real worker processes as the tenant grows (DESIGN 10: worker memory
flat, streaming, no whole-tenant lists in memory).

For a 10,000 and a 100,000-object tenant (the snapshot benchmarks' tenants), on a fresh
stack each (every server and Rewind process, as ``make up`` runs them), a full snapshot
is taken through the API; then 1% of the users are changed and a full difference report
of the live tenant against that snapshot is run. The snapshotter and the differ are
Celery workers with one prefork pool process each: the figure of a worker is the peak
resident set size (``VmHWM``, which the kernel keeps per process) of its pool process,
the one that runs the job, read once the job has ended, next to the resident size of
the same process when idle before the job (the main process, which only receives
messages, is recorded apart). Resident memory is sampled every 50 ms as well; the higher
of the two is the peak (the sample alone where ``/proc`` has no ``VmHWM``).

Target: peak(100k) / peak(10k) ≤ 1.5 for each worker (flat).
"""

from __future__ import annotations

import tempfile
import threading
import time
from argparse import Namespace
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from devstack.stack import Stack

from bench.harness import Check, ScenarioResult
from bench.scenarios.snapshot_support import change_users, emulator_call, scaled
from bench.scenarios.stack_support import ApiUser, running_stack, servers_of

NAME = "worker_memory"
DESCRIPTION = (
    "Peak resident memory of the snapshotter and differ worker processes during a full "
    "snapshot and a full difference report, 10k vs 100k objects"
)
TARGET_RATIO = 1.5
SAMPLE_SECONDS = 0.05
MB = 1024 * 1024


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _high_water_mark(pid: int) -> int | None:
    """The kernel's peak resident set size of ``pid`` in bytes (Linux ``VmHWM``)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class Watch:
    """Resident memory of a worker's processes: idle before a job, sampled while it
    runs, and the kernel's peak afterwards."""

    def __init__(self, pid: int) -> None:
        self.processes = _tree(pid)
        self.idle = {p.pid: p.memory_info().rss for p in self.processes}
        self.sampled = dict(self.idle)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            for process in self.processes:
                try:
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                self.sampled[process.pid] = max(self.sampled[process.pid], rss)

    @contextmanager
    def running(self) -> Iterator[Watch]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()

    def figures(self) -> dict[str, Any]:
        """The pool processes' figures (those that run jobs; the worker's main process
        only receives messages), the highest peak first; the main process's apart."""
        processes: list[dict[str, Any]] = []
        for process in self.processes:
            kernel = _high_water_mark(process.pid)
            sampled = self.sampled[process.pid]
            processes.append(
                {
                    "pid": process.pid,
                    "idleRssMb": round(self.idle[process.pid] / MB, 1),
                    "sampledPeakRssMb": round(sampled / MB, 1),
                    # the kernel folds per-thread counters into VmHWM lazily: a sample
                    # may see a little more
                    "peakRssMb": round(max(kernel or 0, sampled) / MB, 1),
                    "kernelPeakRssMb": round(kernel / MB, 1) if kernel else None,
                }
            )
        main, pool = processes[0], processes[1:] or processes[:1]
        top = max(pool, key=lambda p: p["peakRssMb"])
        return {
            "peakRssMb": top["peakRssMb"],
            "idleRssMb": top["idleRssMb"],
            "growthMb": round(top["peakRssMb"] - top["idleRssMb"], 1),
            "poolProcesses": pool,
            "mainProcess": main,
        }


def _worker_pid(stack: Stack, name: str) -> int:
    pid = stack.processes[name].pid
    assert pid is not None, f"{name} is not running"
    return pid


def _measure(sizes: dict[str, int], root: Path) -> dict[str, Any]:
    with running_stack(root, workers=("snapshotter", "differ")) as stack:
        servers = servers_of(stack)
        counts = emulator_call(servers, "POST", "/_emulator/generate", sizes)
        user = ApiUser(stack)
        try:
            watch = Watch(_worker_pid(stack, "snapshotter"))
            started = time.perf_counter()
            with watch.running():
                job = user.snapshot("full")
            snapshot = {
                "seconds": round(time.perf_counter() - started, 1),
                **watch.figures(),
            }
            record = user.get(f"/snapshots/{job['snapshotId']}")
            snapshot["objects"] = sum(record["counts"].values())
            changed = change_users(servers, 0.01, 1)
            watch = Watch(_worker_pid(stack, "differ"))
            started = time.perf_counter()
            with watch.running():
                report_job = user.report(job["snapshotId"])
            report = {"seconds": round(time.perf_counter() - started, 1), **watch.figures()}
            summary = user.get(f"/difference-reports/{report_job['id']}")["summary"]
            report["changes"] = sum(sum(kinds.values()) for kinds in summary.values())
            report["usersChanged"] = changed
        finally:
            user.close()
    return {"tenant": counts, "snapshot": snapshot, "report": report}


def run(options: Namespace) -> ScenarioResult:
    quick = getattr(options, "quick", False)
    sizes = (
        {"1k": scaled(100), "2k": scaled(50)} if quick else {"10k": scaled(10), "100k": scaled(1)}
    )
    result = ScenarioResult(NAME, DESCRIPTION)
    with tempfile.TemporaryDirectory(prefix="worker-memory-") as tmp:
        for label, params in sizes.items():
            figures = _measure(params, Path(tmp) / label)
            result.metrics[label] = figures
            snap, report = figures["snapshot"], figures["report"]
            print(
                f"   {label}: snapshot of {snap['objects']} objects in {snap['seconds']} s, "
                f"snapshotter peak {snap['peakRssMb']} MB (idle {snap['idleRssMb']} MB); "
                f"report ({report['changes']} changes) in {report['seconds']} s, "
                f"differ peak {report['peakRssMb']} MB (idle {report['idleRssMb']} MB)",
                flush=True,
            )
    small, large = (result.metrics[label] for label in sizes)
    small_label, large_label = sizes
    for worker, part in (("snapshotter", "snapshot"), ("differ", "report")):
        ratio = large[part]["peakRssMb"] / small[part]["peakRssMb"]
        growth = large[part]["growthMb"] / max(small[part]["growthMb"], 1.0)
        result.metrics[f"{worker}PeakRatio"] = round(ratio, 3)
        result.metrics[f"{worker}GrowthRatio"] = round(growth, 3)
        result.checks.append(
            Check(f"{worker} peak RSS, {large_label} vs {small_label}", ratio, TARGET_RATIO, "×")
        )
    result.notes.append(
        "Peak RSS is the whole process: the interpreter, the libraries loaded at start "
        "(idleRssMb) and what the job needed on top (growthMb); growthRatio is the ratio of "
        "the latter, recorded, not checked."
    )
    return result
