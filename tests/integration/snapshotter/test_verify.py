"""Verification recomputes every hash; tampering with stored data fails it, by name."""

from __future__ import annotations

import json

import orjson
from bson import Binary

from rewind_common.jobs.model import JobStatus
from rewind_common.storage.manifest import chunk_rows
from rewind_common.storage.mongo import Collection
from tests.integration.snapshotter.support import Harness


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


async def test_verify_names_a_tampered_manifest_entry(harness: Harness) -> None:
    await harness.emulator.generate()
    _, record = await harness.snapshot()
    assert record is not None
    chunks = harness.mongo.collection(Collection.MANIFEST)
    chunk = await chunks.find_one({"seg": record.id, "t": "group"})
    assert chunk is not None
    rows = chunk_rows(chunk)
    rows[0][4] = "Renamed behind Rewind's back"
    await chunks.update_one({"_id": chunk["_id"]}, {"$set": {"e": Binary(orjson.dumps(rows))}})

    failed = await harness.verify(record.id)

    assert failed.status is JobStatus.FAILED
    assert any("manifest root" in w.reason for w in failed.warnings)
