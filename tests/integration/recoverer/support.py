"""Driving the recoverer's handler through ``JobRunner`` against real MongoDB and Redis and
an in-process emulated tenant; the snapshotter's harness takes the backups."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rewind_common.domain.equivalence import values_equivalent
from rewind_common.domain.references import rewrite_references
from rewind_common.graph.budget import GraphBudget
from rewind_common.graph.client import GraphClient
from rewind_common.ids import new_id
from rewind_common.jobs.model import Job, JobKind
from rewind_common.registry import get_type
from rewind_common.settings import TenantConnection
from rewind_common.storage.pre_recovery import PreRecoverySnapshots
from rewind_common.storage.recoveries import RecoveryStore
from rewind_common.storage.reports import ReportStore
from rewind_common.tasks import RecoveryPayload
from rewind_recoverer.handler import RecoveryHandler
from rewind_recoverer.reports import report_changes
from tests.integration.snapshotter.support import Harness, comparable
from tests.integration.tenant.emulated import TENANT_ID, EmulatedTenant


@dataclass
class Recovered:
    job: Job
    steps: int
    record: dict[str, Any]
    actions: list[dict[str, Any]]

    def of(self, action: str | None = None, type_name: str | None = None) -> list[dict[str, Any]]:
        return [
            a
            for a in self.actions
            if (action is None or a["action"] == action)
            and (type_name is None or a["type"] == type_name)
        ]

    def outcomes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for action in self.actions:
            out[action["outcome"]] = out.get(action["outcome"], 0) + 1
        return out


@dataclass
class RecoveryHarness:
    base: Harness
    #: Settings of the tenant connection (break-glass accounts...).
    connection: TenantConnection
    budget: bool = False
    #: Builds the recovery store the handler uses (tests inject failures).
    store_factory: Callable[[Any], RecoveryStore] = RecoveryStore
    sent: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def emulator(self) -> EmulatedTenant:
        return self.base.emulator

    @property
    def recoveries(self) -> RecoveryStore:
        return RecoveryStore(self.base.mongo)

    @property
    def pre_recovery(self) -> PreRecoverySnapshots:
        return PreRecoverySnapshots(self.base.mongo, self.base.store)

    def with_break_glass(self, *accounts: str) -> None:
        self.connection = self.connection.model_copy(update={"break_glass_accounts": accounts})
        self.base.settings = self.base.settings.model_copy(update={"tenants": (self.connection,)})

    def open_graph(self) -> Callable[[TenantConnection], Any]:
        harness = self

        def observe(method: str, route: str, status: int, units: int) -> None:
            harness.sent.append((method, route, status))

        @contextlib.asynccontextmanager
        async def opened(tenant: TenantConnection) -> AsyncIterator[GraphClient]:
            budget = None
            if harness.budget:
                budget = GraphBudget(
                    harness.base.redis,
                    tenant.tenant_id,
                    read_units_per_10s=harness.base.settings.graph_read_units_per_10s,
                    writes_per_150s=harness.base.settings.graph_writes_per_150s,
                )
            client = GraphClient(
                tenant, transport=harness.emulator.transport(), budget=budget, observe=observe
            )
            try:
                yield client
            finally:
                await client.close()

        return opened

    def handler(self) -> RecoveryHandler:
        mongo = self.base.mongo
        return RecoveryHandler(
            self.base.settings,
            self.base.store,
            self.store_factory(mongo),
            PreRecoverySnapshots(mongo, self.base.store),
            self.open_graph(),
            report_changes(ReportStore(mongo)),
        )

    async def recover(
        self,
        snapshot_id: str | None = None,
        *,
        report_id: str | None = None,
        scope: dict[str, Any] | None = None,
        dry_run: bool = False,
        step_seconds: float | None = None,
        job_id: str | None = None,
        max_steps: int = 500,
    ) -> Recovered:
        payload = RecoveryPayload(
            job_id=job_id or new_id(),
            tenant_id=TENANT_ID,
            snapshot_id=snapshot_id,
            difference_report_id=report_id,
            scope=scope,
            dry_run=dry_run,
        ).dump()
        previous = self.base.settings
        if step_seconds is not None:
            self.base.settings = previous.model_copy(update={"job_step_seconds": step_seconds})
        try:
            job, steps = await self.base.run(
                JobKind.RECOVERY, payload, self.handler(), max_steps=max_steps
            )
        finally:
            self.base.settings = previous
        record = await self.recoveries.record(job.id) or {}
        actions = await self.recoveries.actions(job.id)
        return Recovered(job, steps, dict(record), [dict(a) for a in actions])

    async def backup(self) -> str:
        job, record = await self.base.snapshot()
        assert record is not None, job
        return record.id

    async def graph(self, method: str, path: str, body: Any = None) -> Any:
        return await self.emulator.graph_call(method, path, body)


def tenant_view(state: Mapping[str, Any]) -> dict[str, Any]:
    """The emulator's state as comparable values: type → id → (deleted, body)."""
    out: dict[str, Any] = {}
    for type_name, groups in state["types"].items():
        found: dict[str, Any] = {}
        for deleted, bodies in ((False, groups["active"]), (True, groups["deleted"])):
            for body in bodies:
                found[body["id"]] = (deleted, comparable(type_name, body, volatile=False))
        out[type_name] = found
    return out


def links_of(state: Mapping[str, Any], type_name: str, object_id: str) -> dict[str, Any]:
    links = copy.deepcopy(state["links"].get(type_name, {}).get(object_id, {}))
    object_type = get_type(type_name)
    return {
        link.name: (sorted(links.get(link.name) or []) if link.many else links.get(link.name))
        for link in object_type.links
    }


def inverse_of(id_map: Mapping[str, str]) -> dict[str, str]:
    return {new: old for old, new in id_map.items()}


def tenant_differences(
    before: Mapping[str, Any], after: Mapping[str, Any], id_map: Mapping[str, str]
) -> list[str]:
    """How ``after`` differs from ``before`` on recoverable properties and links, with
    re-created objects matched through ``id_map`` (old → new) and compared on what a
    create can write. Objects ``after`` holds in deleted items only (soft-deleted rogue
    objects) are not differences."""
    inverse = inverse_of(id_map)
    problems: list[str] = []
    old_view, new_view = tenant_view(before), tenant_view(after)
    for type_name, objects in old_view.items():
        object_type = get_type(type_name)
        for object_id, (deleted, body) in objects.items():
            new_id = id_map.get(object_id, object_id)
            found = new_view.get(type_name, {}).get(new_id)
            if found is None:
                problems.append(f"{type_name} {object_id}: missing")
                continue
            now_deleted, now_body = found
            if now_deleted != deleted:
                problems.append(f"{type_name} {object_id}: deleted {deleted} -> {now_deleted}")
                continue
            now_body = rewrite_references(object_type, now_body, inverse)
            recreated = new_id != object_id
            for name in sorted(set(body) | set(now_body)):
                if recreated and not object_type.is_writable(name, creating=True):
                    continue
                if name in object_type.not_recoverable:
                    continue
                if not values_equivalent(object_type, name, body.get(name), now_body.get(name)):
                    problems.append(
                        f"{type_name} {object_id}.{name}: {body.get(name)!r} -> "
                        f"{now_body.get(name)!r}"
                    )
            if deleted:
                continue
            old_links = links_of(before, type_name, object_id)
            new_links = links_of(after, type_name, new_id)
            for name, value in new_links.items():
                mapped: Any = (
                    sorted(inverse.get(v, v) for v in value)
                    if isinstance(value, list)
                    else (inverse.get(value, value) if isinstance(value, str) else value)
                )
                if mapped != old_links.get(name):
                    problems.append(
                        f"{type_name} {object_id} {name}: {old_links[name]} -> {mapped}"
                    )
    for type_name, objects in new_view.items():
        known = {id_map.get(i, i) for i in old_view.get(type_name, {})}
        for object_id, (deleted, _) in objects.items():
            if object_id not in known and not deleted:
                problems.append(f"{type_name} {object_id}: created and still active")
    return problems
