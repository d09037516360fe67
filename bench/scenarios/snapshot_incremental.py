"""Incremental snapshots with 1% of the users changed: time and new storage as fractions
of the full snapshot's (DESIGN 10: under 5%), and the storage of 1 full + 10 incremental
snapshots against 11 full copies, for a 100,000-object tenant.

Each incremental snapshot reads users, groups, applications, service principals, grants
and app role assignments (``/directoryObjects/delta``) through their delta links, and
reads whole what Graph cannot track: Conditional Access, named locations, the policies,
the organization, and owners of applications and service principals. Beyond the reads,
the Merkle root is recomputed over the whole manifest, which grows with the tenant.
"""

from __future__ import annotations

import asyncio
import uuid
from argparse import Namespace
from typing import Any

from pymongo import MongoClient

from bench.harness import Check, ScenarioResult
from bench.scenarios.snapshot_support import (
    Servers,
    change_users,
    emulator_call,
    scaled,
    servers,
    take_snapshot,
)
from rewind_common.storage.chunk_cache import forget_process_caches

NAME = "snapshot_incremental"
DESCRIPTION = (
    "Incremental snapshot after 1% user churn: time and new storage vs the full snapshot; "
    "storage of 1 full + 10 incremental snapshots vs 11 full copies"
)
CHURN = 0.01
INCREMENTALS = 10
#: Full snapshots taken, of which the median time is the one compared with.
FULL_RUNS = 3
#: Added to every answer of the emulator for one more full and incremental snapshot:
#: reads that wait on a network, as they do on Graph.
REMOTE_LATENCY_MS = 50


def run(options: Namespace) -> ScenarioResult:
    result = ScenarioResult(NAME, DESCRIPTION)
    quick = getattr(options, "quick", False)
    sizes = scaled(100) if quick else scaled(1)
    label = "quick" if quick else "100k"
    with servers() as running:
        counts = emulator_call(running, "POST", "/_emulator/generate", sizes)
        # The full snapshot's time is a median too; each of them goes into an empty
        # store, and the incremental ones build on the last.
        fulls = []
        database = ""
        for number in range(FULL_RUNS):
            if number:
                _drop(running, database)
            database = f"bench_{uuid.uuid4().hex[:8]}"
            fulls.append(asyncio.run(take_snapshot(running, database)))
        full = fulls[-1]
        full_seconds = sorted(taken.seconds for taken in fulls)[len(fulls) // 2]
        rounds: list[dict[str, Any]] = []
        for number in range(INCREMENTALS):
            changed = change_users(running, CHURN, number)
            taken = asyncio.run(take_snapshot(running, database))
            record = taken.record
            rounds.append(
                {
                    "usersChanged": changed,
                    "mode": record.mode,
                    "seconds": round(taken.seconds, 3),
                    "newVersions": record.new_versions,
                    "storedBytes": record.stored_bytes,
                }
            )
            print(
                f"   incremental {number + 1}: {changed} users changed, {record.mode}, "
                f"{taken.seconds:.2f} s, {record.new_versions} new versions, "
                f"{record.stored_bytes / 1e3:.0f} kB",
                flush=True,
            )
        remote = _with_latency(running, INCREMENTALS)
    first = rounds[0]
    full_bytes = full.record.stored_bytes
    total = full_bytes + sum(r["storedBytes"] for r in rounds)
    figures = {
        "tenant": counts,
        "full": {
            "seconds": round(full_seconds, 3),
            "runs": [round(taken.seconds, 3) for taken in fulls],
            "objects": full.record.entry_count,
            "newVersions": full.record.new_versions,
            "storedBytes": full_bytes,
        },
        "incrementals": rounds,
        "firstIncremental": {
            "timeFraction": round(first["seconds"] / full_seconds, 4),
            "storageFraction": round(first["storedBytes"] / full_bytes, 4),
        },
        "bestIncrementalTimeFraction": round(min(r["seconds"] for r in rounds) / full_seconds, 4),
        "storedBytesFullPlusIncrementals": total,
        "storedBytesElevenFullCopies": full_bytes * (INCREMENTALS + 1),
        "withLatency": remote,
    }
    result.metrics[label] = figures
    time_fraction = sorted(r["seconds"] for r in rounds)[len(rounds) // 2] / full_seconds
    storage_fraction = max(r["storedBytes"] for r in rounds) / full_bytes
    result.checks.append(Check("incremental time / full (median of 10)", time_fraction, 0.05, "×"))
    result.checks.append(
        Check("incremental new storage / full (largest)", storage_fraction, 0.05, "×")
    )
    result.checks.append(
        Check(
            "1 full + 10 incrementals / 11 full copies",
            total / (full_bytes * (INCREMENTALS + 1)),
            0.15,
            "×",
        )
    )
    result.notes.append(
        f"Each incremental snapshot changed {CHURN:.0%} of the users; new versions are the "
        "changed users only. The time of an incremental snapshot is mostly reads Graph "
        "cannot make incremental (owners of applications and service principals, "
        "Conditional Access, the policies) and the pass hashing the whole manifest into "
        "its Merkle root."
    )
    result.notes.append(
        f"The full snapshot's time is the median of {FULL_RUNS} ("
        + ", ".join(f"{taken.seconds:.2f} s" for taken in fulls)
        + "), each into an empty store, as the incremental one's is the median of "
        f"{INCREMENTALS}: on a machine shared with the emulator and the database server, "
        "one run of either can be off by a fifth."
    )
    result.notes.append(
        "The snapshots run one after another in one process, as a snapshot worker takes "
        "a tenant's scheduled jobs. The first incremental reads the chunks and chunk "
        f"headers of the full snapshot's manifest from the server ({first['seconds']} s); "
        "each later one finds those the job before it read in the process's chunk cache "
        "(REWIND_SNAPSHOT_CHUNK_CACHE_MB) and asks the server only for the newest segment."
    )
    result.notes.append(
        f"With {remote['latencyMs']:g} ms added to every answer of the emulator (a network "
        f"between the worker and Graph), a full snapshot of the same tenant took "
        f"{remote['fullSeconds']} s and an incremental one after {CHURN:.0%} churn "
        f"{remote['incrementalSeconds']} s ({remote['timeFraction']:.1%} of it): on Graph, "
        "the full snapshot's thousands of pages wait on the network, the incremental one "
        "reads a few dozen, and what it does locally is the same as without latency."
    )
    return result


def _drop(running: Servers, database: str) -> None:
    """A database measured and no longer needed, and what this process kept of it."""
    client: MongoClient[dict[str, Any]] = MongoClient(running.mongo_url)
    with client:
        client.drop_database(database)
    forget_process_caches([database])


def _with_latency(running: Servers, round_number: int) -> dict[str, Any]:
    """A full and then an incremental snapshot (in a database of their own) with
    ``REMOTE_LATENCY_MS`` added to every answer."""
    database = f"bench_{uuid.uuid4().hex[:8]}"
    emulator_call(running, "PUT", "/_emulator/config", {"latencyMs": REMOTE_LATENCY_MS})
    try:
        full = asyncio.run(take_snapshot(running, database))
        change_users(running, CHURN, round_number)
        incremental = asyncio.run(take_snapshot(running, database))
    finally:
        emulator_call(running, "PUT", "/_emulator/config", {"latencyMs": 0})
    return {
        "latencyMs": REMOTE_LATENCY_MS,
        "fullSeconds": round(full.seconds, 3),
        "incrementalSeconds": round(incremental.seconds, 3),
        "incrementalMode": incremental.record.mode,
        "timeFraction": round(incremental.seconds / full.seconds, 4),
    }
