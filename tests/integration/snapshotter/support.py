"""Driving the snapshotter's handlers through ``JobRunner`` against real MongoDB and Redis
and an in-process emulated tenant, and comparing snapshots with the emulator's state."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from rewind_common.graph.client import GraphClient
from rewind_common.ids import new_id
from rewind_common.jobs.control import JobControl
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import Job, JobKind, JobStatus
from rewind_common.jobs.runner import JobHandler, JobRunner
from rewind_common.registry import get_type
from rewind_common.settings import Settings, TenantConnection
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.manifest import chunk_stored_bytes
from rewind_common.storage.mongo import Collection, Mongo
from rewind_common.storage.snapshot_reader import SnapshotReader
from rewind_common.storage.snapshots import SnapshotRecord, SnapshotStore
from rewind_common.tasks import RetentionPayload, SnapshotPayload, VerifyPayload
from rewind_snapshotter.retention import RetentionHandler
from rewind_snapshotter.snapshot.handler import SnapshotHandler
from rewind_snapshotter.verify import VerifyHandler
from tests.integration.tenant.emulated import TENANT_ID, EmulatedTenant


class Recorder:
    """Applies published status messages to the job store, like the status recorder."""

    def __init__(self) -> None:
        self.messages: list[StatusMessage] = []

    def __call__(self, task_name: str, payload: dict[str, Any]) -> None:
        self.messages.append(StatusMessage.model_validate(payload))

    def statuses(self, job_id: str) -> list[JobStatus]:
        out: list[JobStatus] = []
        for message in self.messages:
            if message.job_id == job_id and (not out or out[-1] != message.status):
                out.append(message.status)
        return out


@dataclass
class Harness:
    settings: Settings
    mongo: Mongo
    redis: aioredis.Redis
    emulator: EmulatedTenant
    store: SnapshotStore
    jobs: JobRepository
    control: JobControl
    recorder: Recorder = field(default_factory=Recorder)
    #: Called before each step (tests cancel or change the tenant mid-job).
    before_step: Callable[[int], Any] | None = None

    @property
    def reader(self) -> SnapshotReader:
        return SnapshotReader(self.store)

    def open_graph(
        self,
    ) -> Callable[[TenantConnection], contextlib.AbstractAsyncContextManager[GraphClient]]:
        emulator = self.emulator

        @contextlib.asynccontextmanager
        async def opened(tenant: TenantConnection) -> AsyncIterator[GraphClient]:
            async with emulator.graph(tenant) as client:
                yield client

        return opened

    async def run(
        self,
        kind: JobKind,
        payload: Mapping[str, Any],
        handler: JobHandler,
        *,
        max_steps: int = 500,
    ) -> tuple[Job, int]:
        parameters = {"snapshotId": payload["snapshotId"]} if "snapshotId" in payload else {}
        job = Job(
            id=str(payload["jobId"]),
            tenant_id=TENANT_ID,
            kind=kind,
            created_by="test",
            parameters=parameters,
        )
        await self.jobs.insert(job)
        runner = JobRunner(
            self.jobs, self.control, self.recorder, step_seconds=self.settings.job_step_seconds
        )
        steps = 0
        while steps < max_steps:
            if self.before_step is not None:
                result = self.before_step(steps)
                if hasattr(result, "__await__"):
                    await result
            decision = await runner.run_step(job.id, payload, handler)
            steps += 1
            await self.apply()
            if not decision.enqueue_again:
                break
        found = await self.jobs.find(job.id)
        assert found is not None
        return found, steps

    async def apply(self) -> None:
        for message in self.recorder.messages:
            await self.jobs.apply(message)

    async def snapshot(
        self, mode: str | None = None, *, step_seconds: float | None = None
    ) -> tuple[Job, SnapshotRecord | None]:
        settings = self.settings
        if step_seconds is not None:
            settings = settings.model_copy(update={"job_step_seconds": step_seconds})
        snapshot_id = new_id()
        payload = SnapshotPayload(
            job_id=new_id(), tenant_id=TENANT_ID, snapshot_id=snapshot_id, mode=mode
        ).dump()
        handler = SnapshotHandler(settings, self.store, self.open_graph())
        previous = self.settings
        self.settings = settings
        try:
            job, _ = await self.run(JobKind.SNAPSHOT, payload, handler)
        finally:
            self.settings = previous
        return job, await self.store.find(snapshot_id)

    async def verify(self, snapshot_id: str) -> Job:
        payload = VerifyPayload(job_id=new_id(), tenant_id=TENANT_ID, snapshot_id=snapshot_id)
        job, _ = await self.run(JobKind.VERIFY, payload.dump(), VerifyHandler(self.store))
        return job

    async def retention(self) -> Job:
        payload = RetentionPayload(job_id=new_id(), tenant_id=TENANT_ID)
        handler = RetentionHandler(self.settings, self.store, self.jobs)
        job, _ = await self.run(JobKind.RETENTION, payload.dump(), handler)
        return job


def comparable(type_name: str, body: Mapping[str, Any], *, volatile: bool = True) -> dict[str, Any]:
    """A body without annotations (``@odata.type`` only matters for types with derived
    types: deleted items carry it for every type), nulls and empty collections
    (and volatile properties unless ``volatile``):
    Graph's delta leaves out properties never set, where a GET returns them as null or
    ``[]`` (DESIGN 6: null, missing and empty collection are equal)."""
    object_type = get_type(type_name)
    return {
        name: value
        for name, value in body.items()
        if (volatile or name not in object_type.volatile)
        and ("@" not in name or (name == "@odata.type" and bool(object_type.derived_entities)))
        and value is not None
        and value != []
    }


async def snapshot_contents(harness: Harness, record: SnapshotRecord) -> dict[str, dict[str, Any]]:
    """Everything a snapshot holds: type → id → (deleted, body, links)."""
    contents: dict[str, dict[str, Any]] = {}
    for type_name, count in record.counts.items():
        found: dict[str, Any] = {}
        async for state in harness.reader.states(record, type_name):
            found[state.object_id] = (state.deleted, state.as_returned, dict(state.links))
        assert len(found) == count, type_name
        contents[type_name] = found
    return contents


def expected_links(state: Mapping[str, Any], type_name: str, object_id: str) -> dict[str, Any]:
    links = state["links"].get(type_name, {}).get(object_id, {})
    object_type = get_type(type_name)
    out: dict[str, Any] = {}
    for link in object_type.links:
        value = links.get(link.name)
        out[link.name] = tuple(sorted(value or [])) if link.many else value
    return out


def assert_same_body(
    type_name: str, object_id: str, got: Mapping[str, Any], want: Mapping[str, Any]
) -> None:
    """Same values for every stored property; a property the snapshot lacks (a delta
    round leaves out properties never set) may only hold a default value (``false``,
    ``{}``) in a GET."""
    differing = {k: (got[k], want.get(k)) for k in got if got[k] != want.get(k)}
    missing = {k: want[k] for k in want if k not in got and want[k] not in (False, {})}
    assert not differing, (type_name, object_id, differing)
    assert not missing, (type_name, object_id, missing)


def assert_matches_state(
    contents: Mapping[str, Mapping[str, Any]], state: Mapping[str, Any], registry_select: bool
) -> None:
    """Every object and link of the emulator's state is in the snapshot, with the same
    body, volatile properties included (and, for types read with a ``$select``, apart
    from properties outside it)."""
    for type_name, groups in state["types"].items():
        object_type = get_type(type_name)
        stored = contents[type_name]
        expected_ids = {b["id"] for b in groups["active"]} | {b["id"] for b in groups["deleted"]}
        assert set(stored) == expected_ids, type_name
        for deleted, bodies in ((False, groups["active"]), (True, groups["deleted"])):
            for body in bodies:
                got_deleted, got_body, got_links = stored[body["id"]]
                assert got_deleted == deleted, (type_name, body["id"])
                want = comparable(type_name, body)
                if registry_select and object_type.select:
                    want = {k: v for k, v in want.items() if k in object_type.select}
                got = comparable(type_name, got_body)
                assert_same_body(type_name, body["id"], got, want)
                if not deleted:
                    assert got_links == expected_links(state, type_name, body["id"]), (
                        type_name,
                        body["id"],
                    )


async def stored_cost(harness: Harness, snapshot_id: str) -> tuple[int, int]:
    """What storage holds of a snapshot's own: the versions its packs brought, and the
    bytes of those packs and of its manifest chunks."""
    versions, pack_bytes = await harness.store.new_version_totals(snapshot_id)
    chunks = (
        await harness.mongo.collection(Collection.MANIFEST).find({"seg": snapshot_id}).to_list()
    )
    return versions, pack_bytes + sum(chunk_stored_bytes(c) for c in chunks)
