"""Where a recovery starts from, and how its writes travel: a difference report (limited
to the objects it lists), a pre-recovery snapshot (undoing a recovery), and membership
changes through ``$batch`` with relative URLs, which msgraph-sdk's batch items get wrong."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

from rewind_common.domain.changes import Change
from rewind_common.domain.diff import diff_object
from rewind_common.domain.records import ObjectState
from rewind_common.domain.requests import PlannedRequest
from rewind_common.jobs.model import JobStatus, utcnow
from rewind_common.settings import RetentionPolicy
from rewind_common.storage.mongo import Collection
from rewind_common.storage.reports import ReportRecord, ReportStore
from rewind_recoverer.batching import Prepared, Unit, UnitKind
from rewind_recoverer.sending import Sender
from tests.integration.recoverer.support import RecoveryHarness
from tests.integration.tenant.emulated import BASE_URL, TENANT_ID


async def test_a_recovery_from_a_report_covers_only_what_it_lists(rh: RecoveryHarness) -> None:
    await rh.emulator.generate()
    snapshot = await rh.backup()
    state = await rh.emulator.state()
    listed, unlisted = state["types"]["user"]["active"][3:5]
    for user in (listed, unlisted):
        await rh.graph("PATCH", f"/users/{user['id']}", {"jobTitle": "Changed"})
    reports = ReportStore(rh.base.mongo)
    record = ReportRecord("r1", TENANT_ID, snapshot, None, None, created_at=utcnow())
    await reports.start(record)
    change = diff_object(
        ObjectState("user", listed["id"], {"jobTitle": listed["jobTitle"]}),
        ObjectState("user", listed["id"], {"jobTitle": "Changed"}),
    )
    assert isinstance(change, Change)
    await reports.put_changes("r1", [change])
    await reports.complete("r1", summary={"user": {"updated": 1}}, completed_at=utcnow())

    result = await rh.recover(report_id="r1")

    assert result.job.status is JobStatus.COMPLETED
    assert result.record["snapshotId"] == snapshot
    assert [a["objectId"] for a in result.actions] == [listed["id"]]
    users = {u["id"]: u for u in (await rh.emulator.state())["types"]["user"]["active"]}
    assert users[listed["id"]]["jobTitle"] == listed["jobTitle"]
    assert users[unlisted["id"]]["jobTitle"] == "Changed"


async def test_a_recovery_is_undone_from_its_pre_recovery_snapshot(rh: RecoveryHarness) -> None:
    await rh.emulator.generate()
    snapshot = await rh.backup()
    state = await rh.emulator.state()
    user = state["types"]["user"]["active"][9]
    m365 = next(g for g in state["types"]["group"]["active"] if "Unified" in g["groupTypes"])
    await rh.graph("PATCH", f"/users/{user['id']}", {"jobTitle": "Incident"})
    await rh.graph("DELETE", f"/groups/{m365['id']}")
    # a consent given since the backup: the recovery removes it (grants have no recycle
    # bin), the snapshot it took first keeps it
    granted = {
        (g["clientId"], g["resourceId"]) for g in state["types"]["oAuth2PermissionGrant"]["active"]
    }
    principals = [p["id"] for p in state["types"]["servicePrincipal"]["active"]]
    client, resource = next(
        (c, r) for c in principals for r in principals if c != r and (c, r) not in granted
    )
    consent = {
        "clientId": client,
        "consentType": "AllPrincipals",
        "resourceId": resource,
        "scope": "User.Read",
    }
    await rh.graph("POST", "/oauth2PermissionGrants", consent)
    incident = await rh.emulator.state()
    recovered = await rh.recover(snapshot)
    assert recovered.job.status is JobStatus.COMPLETED
    assert ("softDelete", "oAuth2PermissionGrant") in {
        (a["action"], a["type"]) for a in recovered.actions
    }

    undo = await rh.recover(recovered.record["preRecoverySnapshotId"])

    assert undo.job.status is JobStatus.COMPLETED, undo.job.error
    assert {(a["action"], a["type"]) for a in undo.actions} == {
        ("update", "user"),
        ("softDelete", "group"),
        ("recreate", "oAuth2PermissionGrant"),
    }
    after = await rh.emulator.state()
    users = {u["id"]: u for u in after["types"]["user"]["active"]}
    assert users[user["id"]]["jobTitle"] == "Incident"
    assert m365["id"] in {g["id"] for g in after["types"]["group"]["deleted"]}
    assert len(after["types"]["user"]["active"]) == len(incident["types"]["user"]["active"])
    assert [
        {name: g[name] for name in consent}
        for g in after["types"]["oAuth2PermissionGrant"]["active"]
        if (g["clientId"], g["resourceId"]) == (client, resource)
    ] == [consent]


async def test_batched_membership_writes_use_relative_urls_the_sdk_gets_wrong(
    rh: RecoveryHarness,
) -> None:
    await rh.emulator.generate()
    state = await rh.emulator.state()
    group = next(g for g in state["types"]["group"]["active"] if "Unified" not in g["groupTypes"])
    present = set(state["links"]["group"][group["id"]]["members"])
    new = [u["id"] for u in state["types"]["user"]["active"] if u["id"] not in present][:3]
    bind = {"members@odata.bind": [f"{BASE_URL}/directoryObjects/{i}" for i in new[:2]]}
    # msgraph-core keeps the absolute (or /v1.0-prefixed) URL of a request built from a
    # full URL: Graph, and the emulator, answer 400 to it inside a batch.
    info = RequestInformation(Method.PATCH, f"{BASE_URL}/groups/{group['id']}")
    info.headers.try_add("Content-Type", "application/json")
    info.content = httpx.Request("PATCH", "http://x", json=bind).content
    item = BatchRequestItem(request_information=info, id="1")
    content = BatchRequestContent()
    content.add_request("1", item)
    assert item.url.startswith(("http", "/v1.0"))
    async with rh.emulator.graph() as graph:
        raw = await graph.send("POST", "/$batch", body={"requests": [_as_json(item, bind)]})
        assert raw.body["responses"][0]["status"] == 400
        # The recoverer's path: relative URLs, in a batch of independent writes.
        sender = Sender(graph)
        units = [
            Unit(UnitKind.PARALLEL, (
                Prepared(1, (PlannedRequest("PATCH", f"/groups/{group['id']}", bind),)),
                Prepared(2, (PlannedRequest(
                    "POST", f"/groups/{group['id']}/members/$ref",
                    {"@odata.id": f"{BASE_URL}/directoryObjects/{new[2]}"},
                ),)),
            )),
        ]  # fmt: skip
        answers = await sender.send(units[0])
    assert [a[0].status for a in answers.values()] == [204, 204]
    members = (await rh.emulator.state())["links"]["group"][group["id"]]["members"]
    assert set(new) <= set(members)


def _as_json(item: BatchRequestItem, body: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "method": item.method,
        "url": item.url,
        "headers": {"Content-Type": "application/json"},
        "body": body,
    }


async def test_retention_keeps_what_a_pre_recovery_snapshot_needs(rh: RecoveryHarness) -> None:
    """Backups expire; the record of what a recovery overwrote does not: it is the only
    way to undo that recovery."""
    await rh.emulator.generate()
    snapshot = await rh.backup()
    user = (await rh.emulator.state())["types"]["user"]["active"][9]
    await rh.graph("PATCH", f"/users/{user['id']}", {"jobTitle": "Incident"})
    recovered = await rh.recover(snapshot)
    pre_recovery = recovered.record["preRecoverySnapshotId"]
    # a newer full backup, then every older one expires and is collected
    _, newest = await rh.base.snapshot("full")
    assert newest is not None
    rh.base.settings = rh.base.settings.model_copy(
        update={"retention": RetentionPolicy(keep_all_days=0, keep_daily_days=0)}
    )
    await rh.base.mongo.collection(Collection.SNAPSHOTS).update_many(
        {}, {"$set": {"createdAt": utcnow() - timedelta(days=2)}}
    )

    retention = await rh.base.retention()

    assert retention.status is JobStatus.COMPLETED, retention.error
    assert snapshot in retention.result["expired"]
    assert retention.result["segmentsDeleted"] > 0
    undo = await rh.recover(pre_recovery)
    assert undo.job.status is JobStatus.COMPLETED, undo.job.error
    assert [(a["action"], a["objectId"]) for a in undo.actions] == [("update", user["id"])]
    users = {u["id"]: u for u in (await rh.emulator.state())["types"]["user"]["active"]}
    assert users[user["id"]]["jobTitle"] == "Incident"
