"""The verify job: recompute everything a snapshot's integrity rests on.

Every stored version must hash to its name (SHA-256 of the RFC 8785 form of the body it
holds) and every link set likewise; the manifest must fold to the recorded Merkle root,
the root chained with the previous snapshot's to the recorded ``merkleRoot``, the counts
to the recorded counts, and ``previousRoot`` must be the previous snapshot's root. Each
mismatch becomes a warning naming the object and version; any mismatch ends the job
``Failed`` with ``integrityMismatch``. The pass is resumable like a snapshot's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from rewind_common.domain.merkle import chained_root
from rewind_common.errors import NotFound
from rewind_common.jobs.model import JobError, JobStatus, JobWarning
from rewind_common.jobs.runner import Outcome, StepContext
from rewind_common.registry import get_type
from rewind_common.storage.canonical import canonical_bytes
from rewind_common.storage.manifest import ManifestEntry
from rewind_common.storage.packs import linkset_digest, version_body
from rewind_common.storage.pre_recovery import PreRecoverySnapshot, PreRecoverySnapshots
from rewind_common.storage.snapshots import SnapshotRecord, SnapshotStore
from rewind_common.tasks import VerifyPayload
from rewind_snapshotter.manifest_pass import manifest_pass
from rewind_snapshotter.snapshot.state import MerkleProgress


def version_problem(digest: str, canonical: bytes | None) -> str | None:
    if canonical is None:
        return f"version {digest} is missing from storage"
    if hashlib.sha256(canonical).hexdigest() != digest:
        return f"version {digest} does not match its stored content"
    try:
        if canonical_bytes(version_body(canonical)) != canonical:
            return f"version {digest} is not stored in canonical form"
    except ValueError:
        return f"version {digest} is not a JSON object"
    return None


class VerifyHandler:
    def __init__(self, store: SnapshotStore) -> None:
        # A store of its own: what is verified is read from the database, never from a
        # cache filled before the data could have changed.
        self._store = SnapshotStore(store.mongo)

    async def step(self, context: StepContext) -> Outcome | None:
        payload = VerifyPayload.model_validate(context.payload)
        record = await self._record(payload.snapshot_id)
        if record is None or record.tenant_id != payload.tenant_id:
            raise NotFound(f"snapshot {payload.snapshot_id} does not exist")
        await context.status(JobStatus.IN_PROGRESS)
        progress = MerkleProgress(**_merkle_fields(context.state.get("merkle")))
        mismatches = int(context.state.get("mismatches", 0))

        async def check(batch: list[ManifestEntry]) -> None:
            nonlocal mismatches
            found = await self._check(batch)
            mismatches += len(found)
            await context.warn(found)

        root = await manifest_pass(
            self._store, record.chain, progress, context.out_of_time, check, recompute=True
        )
        if root is None:
            context.state.update({"merkle": _dump(progress), "mismatches": mismatches})
            return None
        problems = await self._record_problems(record, root, progress)
        await context.warn(problems)
        mismatches += len(problems)
        result = {"snapshotId": record.id, "objects": progress.count, "mismatches": mismatches}
        if mismatches:
            return Outcome(
                JobStatus.FAILED,
                result=result,
                counters={"objects": progress.count, "mismatches": mismatches},
                error=JobError(
                    code="integrityMismatch",
                    message=f"snapshot {record.id} failed verification: {mismatches} "
                    "mismatches (see the warnings)",
                ),
            )
        return Outcome(JobStatus.COMPLETED, result=result, counters={"objects": progress.count})

    async def _record(self, snapshot_id: str) -> SnapshotRecord | None:
        """A tenant's snapshot, else a recovery's pre-recovery snapshot of that id."""
        found = await PreRecoverySnapshots(self._store.mongo, self._store).find_any(snapshot_id)
        return found.as_record() if isinstance(found, PreRecoverySnapshot) else found

    async def canceled(self, context: StepContext) -> Mapping[str, Any]:
        return {"snapshotId": context.payload.get("snapshotId")}

    async def _check(self, batch: list[ManifestEntry]) -> list[JobWarning]:
        versions = await self._store.packs.versions(
            (entry.version, entry.pack) for entry in batch if entry.version is not None
        )
        refs = [
            (digest, entry.link_packs.get(name))
            for entry in batch
            for name, digest in entry.links.items()
            if digest and get_type(entry.type).link(name).many
        ]
        linksets = await self._store.packs.linksets(refs) if refs else {}
        warnings: list[JobWarning] = []
        for entry in batch:
            assert entry.version is not None
            problem = version_problem(entry.version, versions.get(entry.version))
            if problem:
                warnings.append(
                    JobWarning(type=entry.type, object_id=entry.object_id, reason=problem)
                )
            for name, digest in entry.links.items():
                if not digest or not get_type(entry.type).link(name).many:
                    continue
                ids = linksets.get(digest)
                if ids is None:
                    reason = f"link set {digest} ({name}) is missing from storage"
                elif linkset_digest(sorted(ids)) != digest:
                    reason = f"link set {digest} ({name}) does not match its stored ids"
                else:
                    continue
                warnings.append(
                    JobWarning(type=entry.type, object_id=entry.object_id, reason=reason)
                )
        return warnings

    async def _record_problems(
        self, record: SnapshotRecord, root: str, progress: MerkleProgress
    ) -> list[JobWarning]:
        problems: list[str] = []
        if root != record.manifest_root:
            problems.append(
                f"manifest root {root} differs from the recorded {record.manifest_root}"
            )
        chained = chained_root(root, record.previous_root)
        if chained != record.merkle_root:
            problems.append(
                f"chained root {chained} differs from the recorded {record.merkle_root}"
            )
        if record.previous_snapshot_id:
            previous = await self._store.find(record.previous_snapshot_id)
            if previous is not None and previous.merkle_root != record.previous_root:
                problems.append(
                    f"previousRoot {record.previous_root} is not the root of snapshot "
                    f"{previous.id} ({previous.merkle_root})"
                )
        for type_name, recorded in record.counts.items():
            counted = progress.counts.get(type_name, 0)
            if counted != recorded:
                problems.append(f"{type_name}: {counted} objects, {recorded} recorded")
        return [JobWarning(reason=problem) for problem in problems]


def _warning(entry: ManifestEntry, reason: str) -> JobWarning:
    return JobWarning(type=entry.type, object_id=entry.object_id, reason=reason)


def _merkle_fields(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        return {}
    fields = dict(data)
    fields["stack"] = [(int(h), str(d)) for h, d in fields.get("stack", [])]
    return fields


def _dump(progress: MerkleProgress) -> dict[str, Any]:
    return {
        "type_index": progress.type_index,
        "after": progress.after,
        "stack": [list(item) for item in progress.stack],
        "count": progress.count,
        "counts": progress.counts,
        "deleted_counts": progress.deleted_counts,
        "link_counts": progress.link_counts,
    }
