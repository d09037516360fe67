"""A snapshot job outlives its access tokens: the Graph client asks its credential for a
token on every request, and the credential renews tokens before they expire. The
emulator refuses expired tokens as Graph does, so a client that kept one token would
fail, and the control test shows that it would."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from rewind_common.graph.client import GraphClient, open_graph_client
from rewind_common.ids import new_id
from rewind_common.jobs.model import Job, JobKind, JobStatus
from rewind_common.settings import CredentialKind, Settings, TenantConnection
from rewind_common.storage.snapshots import SnapshotRecord
from rewind_common.tasks import SnapshotPayload
from rewind_snapshotter.snapshot.handler import SnapshotHandler
from tests.integration.snapshotter.support import (
    Harness,
    assert_matches_state,
    snapshot_contents,
)
from tests.integration.tenant.emulated import TENANT_ID
from tests.support.tokens import ShortLivedTokens

#: kiota sends tokens only over https (or to localhost); the in-process transport does
#: not mind the scheme.
GRAPH = "https://graph.local/v1.0"
LIFETIME = 1.0
LATENCY_MS = 400


async def snapshot_with(
    harness: Harness, credential: ShortLivedTokens
) -> tuple[Job, SnapshotRecord | None, float]:
    """A snapshot job through the worker's client factory, authenticated by
    ``credential``; the job, its snapshot and how long it took."""
    tenant = TenantConnection(
        tenant_id=TENANT_ID, graph_base_url=GRAPH, credential=CredentialKind.NONE
    )
    settings: Settings = harness.settings.model_copy(update={"tenants": (tenant,)})

    @contextlib.asynccontextmanager
    async def open_graph(connection: TenantConnection) -> AsyncIterator[GraphClient]:
        async with open_graph_client(
            connection,
            settings,
            redis=harness.redis,
            transport=harness.emulator.transport(),
            credential=credential,
        ) as client:
            yield client

    snapshot_id = new_id()
    payload = SnapshotPayload(job_id=new_id(), tenant_id=TENANT_ID, snapshot_id=snapshot_id)
    started = time.monotonic()
    job, _ = await harness.run(
        JobKind.SNAPSHOT, payload.dump(), SnapshotHandler(settings, harness.store, open_graph)
    )
    return job, await harness.store.find(snapshot_id), time.monotonic() - started


async def stats(harness: Harness) -> dict[str, Any]:
    result: dict[str, Any] = await harness.emulator.control("GET", "/_emulator/stats")
    return result


async def slow_tenant_requiring_tokens(harness: Harness) -> None:
    """A small tenant behind a slow Graph: its snapshot lasts three to four token
    lifetimes."""
    await harness.emulator.generate()
    await harness.emulator.config(requireToken=True, latencyMs=LATENCY_MS, deltaPageSize=5)
    await harness.emulator.control("DELETE", "/_emulator/stats")


async def test_a_snapshot_outlives_its_access_tokens(harness: Harness) -> None:
    await slow_tenant_requiring_tokens(harness)
    credential = ShortLivedTokens(TENANT_ID, lifetime=LIFETIME)

    job, record, took = await snapshot_with(harness, credential)

    assert job.status is JobStatus.COMPLETED, job.error
    assert took > 3 * LIFETIME
    assert len(credential.issued) >= 3
    assert record is not None
    await harness.emulator.config(requireToken=False)
    state = await harness.emulator.state()
    assert_matches_state(await snapshot_contents(harness, record), state, registry_select=True)
    answered = await stats(harness)
    assert "401" not in answered["byStatus"], answered["byStatus"]
    assert answered["requests"] > len(credential.issued)
    assert not credential.closed, "the caller that passed the credential closes it"


async def test_a_snapshot_whose_token_expires_fails_naming_the_refused_token(
    harness: Harness,
) -> None:
    await slow_tenant_requiring_tokens(harness)
    credential = ShortLivedTokens(TENANT_ID, lifetime=LIFETIME, renew=False)

    job, record, took = await snapshot_with(harness, credential)

    assert job.status is JobStatus.FAILED
    assert record is None
    assert len(credential.issued) == 1
    assert job.error is not None
    assert job.error.message.startswith("Microsoft Graph refused the access token for ")
    assert "(401 InvalidAuthenticationToken)" in job.error.message
    assert "the token is expired" in job.error.message
    answered = await stats(harness)
    assert answered["byStatus"]["200"] > 0, "the token expired mid-job, not before it"
    # a refused token is not retried as if Graph were busy: the job stops at once
    assert answered["byStatus"]["401"] <= 10, answered["byStatus"]
    assert took < 15
