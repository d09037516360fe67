"""The verification after a recovery covers the recovery's scope, not only the objects the
plan acted on: an object in scope that differs from the backup without the recovery
having said so (a change made while it ran, something the plan missed) is named."""

from __future__ import annotations

from typing import Any

from rewind_common.domain.remap import IdMap
from rewind_common.domain.scope import Scope
from rewind_common.storage.snapshot_reader import SnapshotReader
from rewind_common.tenant import TenantReader
from rewind_recoverer.source import open_source
from rewind_recoverer.verify import verify
from tests.integration.recoverer.support import RecoveryHarness


async def _verified(rh: RecoveryHarness, snapshot_id: str, scope: Scope) -> dict[str, Any]:
    source = await open_source(rh.connection.tenant_id, snapshot_id, pre_recovery=rh.pre_recovery)
    async with rh.open_graph()(rh.connection) as graph:
        return await verify(
            [],
            source.chain,
            scope=scope,
            snapshots=SnapshotReader(rh.base.store),
            reader=TenantReader(graph),
            id_map=IdMap(),
        )


async def test_verification_names_what_differs_in_scope_without_an_action(
    rh: RecoveryHarness,
) -> None:
    await rh.emulator.generate()
    snapshot_id = await rh.backup()
    users = (await rh.emulator.state())["types"]["user"]["active"]
    drifted, untouched = users[3], users[4]
    await rh.graph("PATCH", f"/users/{drifted['id']}", {"jobTitle": "Changed meanwhile"})
    domain = users[0]["userPrincipalName"].split("@")[1]
    created = await rh.graph(
        "POST",
        "/users",
        {
            "accountEnabled": True,
            "displayName": "Arrived meanwhile",
            "mailNickname": "arrived",
            "userPrincipalName": f"arrived@{domain}",
            "passwordProfile": {
                "password": "Xy!9-long-enough",
                "forceChangePasswordNextSignIn": True,
            },
        },
    )

    whole = await _verified(rh, snapshot_id, Scope.from_dict({"types": ["user"]}))

    assert whole["clean"] is False
    assert whole["checked"] == len(users) + 1
    found = {d["objectId"]: d for d in whole["differences"]}
    assert set(found) == {drifted["id"], created["id"]}
    assert found[drifted["id"]]["unexpected"] == ["jobTitle"]
    assert found[created["id"]]["unexpected"] == ["(created)"]

    named = await _verified(
        rh,
        snapshot_id,
        Scope.from_dict({"objects": [{"type": "user", "ids": [untouched["id"], drifted["id"]]}]}),
    )
    assert (named["checked"], named["unexpected"]) == (2, 1)
    assert [d["objectId"] for d in named["differences"]] == [drifted["id"]]
