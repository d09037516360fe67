"""Verification recomputes every hash; tampering with stored data fails it, by name;
a recovery's pre-recovery snapshot is verified like any snapshot."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from bson import Binary

from rewind_common.domain.records import ObjectState
from rewind_common.jobs.model import JobStatus, utcnow
from rewind_common.storage.manifest import chunk_rows
from rewind_common.storage.mongo import Collection
from rewind_common.storage.pre_recovery import PreRecoverySnapshots
from tests.integration.snapshotter.support import Harness
from tests.integration.tenant.emulated import TENANT_ID

GROUP = "21d05557-b7b6-418f-86fa-a3118d751be4"


def _renamed(row: list[Any]) -> None:
    row[4] = "Renamed behind Rewind's back"


def _backdated(row: list[Any]) -> None:
    """Move a user's creation time: a kept volatile property, hashed into the manifest."""
    assert row[8]["createdDateTime"]
    row[8]["createdDateTime"] = "2001-01-01T00:00:00Z"


async def _tamper_first_entry(
    harness: Harness, segment: str, type_name: str, change: Callable[[list[Any]], None]
) -> None:
    """Change the first manifest entry of a type, as someone with database access could."""
    chunks = harness.mongo.collection(Collection.MANIFEST)
    chunk = await chunks.find_one({"seg": segment, "t": type_name})
    assert chunk is not None
    rows = chunk_rows(chunk)
    change(rows[0])
    await chunks.update_one({"_id": chunk["_id"]}, {"$set": {"e": Binary(orjson.dumps(rows))}})


async def test_verify_passes_then_fails_naming_a_tampered_version(harness: Harness) -> None:
    await harness.emulator.generate()
    _, first = await harness.snapshot()
    assert first is not None
    users = (await harness.emulator.state())["types"]["user"]["active"]
    await harness.emulator.graph_call("PATCH", f"/users/{users[0]['id']}", {"city": "Oslo"})
    _, second = await harness.snapshot()
    assert second is not None

    verified = await harness.verify(second.id)
    assert verified.status is JobStatus.COMPLETED, verified.warnings
    assert verified.result["objects"] == second.entry_count

    # Tamper with a user's stored version, as someone with database access could.
    found = await harness.store.manifests.get_entries(second.chain, "user", [users[1]["id"]])
    victim = found[users[1]["id"]]
    packs = harness.mongo.collection(Collection.VERSIONS)
    pack = await packs.find_one({"_id": victim.pack})
    assert pack is not None
    body = json.loads(pack["v"][victim.version])
    body["jobTitle"] = "Tampered"
    tampered = json.dumps(body, separators=(",", ":"), sort_keys=True)
    await packs.update_one({"_id": victim.pack}, {"$set": {f"v.{victim.version}": tampered}})

    failed = await harness.verify(second.id)

    assert failed.status is JobStatus.FAILED
    assert failed.error is not None
    assert failed.error.code == "integrityMismatch"
    named = [(w.type, w.object_id) for w in failed.warnings]
    assert ("user", victim.object_id) in named
    assert victim.version is not None
    assert any(victim.version in w.reason for w in failed.warnings)
    # the first snapshot shares the tampered version: it fails too
    assert (await harness.verify(first.id)).status is JobStatus.FAILED


@pytest.mark.parametrize(
    ("type_name", "change"), [("group", _renamed), ("user", _backdated)], ids=["name", "volatile"]
)
async def test_verify_names_a_tampered_manifest_entry(
    harness: Harness, type_name: str, change: Callable[[list[Any]], None]
) -> None:
    await harness.emulator.generate()
    _, record = await harness.snapshot()
    assert record is not None
    await _tamper_first_entry(harness, record.id, type_name, change)

    failed = await harness.verify(record.id)

    assert failed.status is JobStatus.FAILED
    assert any("manifest root" in w.reason for w in failed.warnings)


async def test_verify_checks_a_pre_recovery_snapshot_by_its_id(harness: Harness) -> None:
    user = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
    partial = await PreRecoverySnapshots(harness.mongo, harness.store).write(
        "pre-1",
        tenant_id=TENANT_ID,
        recovery_id="rec-1",
        source_snapshot_id=None,
        states=[
            ObjectState("user", user, {"id": user, "displayName": "Adele"}),
            ObjectState(
                "group", GROUP, {"id": GROUP, "displayName": "Sales"}, links={"members": (user,)}
            ),
        ],
        at=utcnow(),
    )
    assert partial.new_versions == 2
    assert partial.stored_bytes > 0

    verified = await harness.verify(partial.id)
    assert verified.status is JobStatus.COMPLETED, verified.warnings
    assert verified.result["objects"] == 2

    await _tamper_first_entry(harness, partial.id, "user", _renamed)

    failed = await harness.verify(partial.id)
    assert failed.status is JobStatus.FAILED
    assert any("manifest root" in w.reason for w in failed.warnings)
