"""``rewind recover`` against a real API server: starting a recovery (or a dry run) from
options, showing a recovery with its outcomes and listing recoveries, and the snapshot
that undoes one."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import redis.asyncio as aioredis

from rewind_api.events import JobEvents
from rewind_api.recorder import StatusRecorder
from rewind_common.domain.records import ObjectState
from rewind_common.jobs.control import JobControl
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import JobError, JobStatus, utcnow
from rewind_common.settings import Settings
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.pre_recovery import PreRecoverySnapshots
from rewind_common.storage.recoveries import RecoveryStore
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tasks import Queue, RecoveryPayload
from tests.integration.api.support import TENANT, queued_tasks, store_snapshot
from tests.integration.api.test_cli import admin_env, env, rewind  # noqa: F401  (fixtures)

USER = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
GROUP = "21d05557-b7b6-418f-86fa-a3118d751be4"
NEW_GROUP = "11111111-2222-4333-8444-555555555555"


async def _seed(settings: Settings) -> None:
    mongo = Mongo(settings.mongo_url.get_secret_value(), settings.mongo_database)
    try:
        await store_snapshot(SnapshotStore(mongo), "s1")
    finally:
        await mongo.close()


async def _queued(settings: Settings) -> list[RecoveryPayload]:
    redis = aioredis.Redis.from_url(settings.redis_url.get_secret_value())
    try:
        tasks = await queued_tasks(redis, Queue.RECOVERIES.value)
    finally:
        await redis.aclose()
    return [RecoveryPayload.model_validate(task.args[0]) for task in tasks]


async def _store_outcomes(settings: Settings, recovery_id: str) -> None:
    mongo = Mongo(settings.mongo_url.get_secret_value(), settings.mongo_database)
    actions: list[dict[str, Any]] = [
        {
            "id": f"update:user:{USER}", "type": "user", "objectId": USER,
            "displayName": "Adele Vance", "action": "update", "outcome": "applied",
            "error": None, "properties": ["jobTitle"], "newObjectId": None,
        },
        {
            "id": f"recreate:group:{GROUP}", "type": "group", "objectId": GROUP,
            "displayName": "SG-Finance", "action": "recreate", "outcome": "applied",
            "error": None, "newObjectId": NEW_GROUP,
        },
        {
            "id": f"update:conditionalAccessPolicy:{GROUP}", "type": "conditionalAccessPolicy",
            "objectId": GROUP, "displayName": "Require MFA", "action": "update",
            "outcome": "failed", "newObjectId": None,
            "error": {"code": "Request_BadRequest", "message": "refused by Graph"},
        },
    ]  # fmt: skip
    record = {"snapshotId": "s1", "preRecoverySnapshotId": "pre-9", "writes": 3}
    try:
        await RecoveryStore(mongo).save_plan(recovery_id, TENANT, record, actions)
    finally:
        await mongo.close()


def test_recover_sends_the_scope_and_dry_run_from_options(
    settings: Settings,
    admin_env: dict[str, str],  # noqa: F811
) -> None:
    asyncio.run(_seed(settings))

    result = rewind(
        admin_env,
        "recover", "--snapshot", "s1", "--type", "group", "--id", f"user:{USER}",
        "--dry-run", "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout)
    assert job["kind"] == "recovery"
    assert job["dryRun"] is True
    (payload,) = asyncio.run(_queued(settings))
    assert payload.snapshot_id == "s1"
    assert payload.dry_run is True
    assert payload.scope == {"types": ["group"], "objects": [{"type": "user", "ids": [USER]}]}


def test_recover_needs_exactly_one_source(admin_env: dict[str, str]) -> None:  # noqa: F811
    neither = rewind(admin_env, "recover")
    both = rewind(admin_env, "recover", "--snapshot", "s1", "--report", "r1")

    assert neither.exit_code == 2
    assert "exactly one of --snapshot and --report" in neither.stderr
    assert both.exit_code == 2


def test_show_lists_outcomes_new_ids_and_how_to_undo(
    settings: Settings,
    admin_env: dict[str, str],  # noqa: F811
) -> None:
    asyncio.run(_seed(settings))
    started = rewind(admin_env, "recover", "--snapshot", "s1", "--json")
    recovery_id = json.loads(started.stdout)["id"]
    asyncio.run(_store_outcomes(settings, recovery_id))

    shown = rewind(admin_env, "recover", "show", recovery_id)
    failed = rewind(admin_env, "recover", "show", recovery_id, "--outcome", "failed", "--json")
    listed = rewind(admin_env, "recover", "list")

    assert shown.exit_code == 0, shown.output
    for text in (
        "Adele Vance", "applied", "jobTitle", f"new id {NEW_GROUP}", "Request_BadRequest",
        "rewind recover --snapshot pre-9", NEW_GROUP,
    ):  # fmt: skip
        assert text in shown.stdout, text
    data = json.loads(failed.stdout)
    assert [a["outcome"] for a in data["actions"]] == ["failed"]
    assert data["recovery"]["idMap"] == {GROUP: NEW_GROUP}
    assert listed.exit_code == 0
    assert recovery_id in listed.stdout


async def _fail_before_plan(settings: Settings, recovery_id: str) -> None:
    mongo = Mongo(settings.mongo_url.get_secret_value(), settings.mongo_database)
    redis = aioredis.Redis.from_url(settings.redis_url.get_secret_value())
    try:
        message = StatusMessage(
            job_id=recovery_id,
            tenant_id=TENANT,
            seq=await JobControl(redis).next_seq(recovery_id),
            status=JobStatus.FAILED,
            error=JobError(code="planRefused", message="recovery plan refused: break-glass"),
        )
        recorder = StatusRecorder(JobRepository(mongo), JobEvents(redis))
        await recorder.record(message.model_dump(mode="json", by_alias=True))
    finally:
        await redis.aclose()
        await mongo.close()


def test_a_recovery_that_failed_before_its_plan_does_not_claim_a_clean_tenant(
    settings: Settings,
    admin_env: dict[str, str],  # noqa: F811
) -> None:
    asyncio.run(_seed(settings))
    started = rewind(admin_env, "recover", "--snapshot", "s1", "--dry-run", "--json")
    recovery_id = json.loads(started.stdout)["id"]
    asyncio.run(_fail_before_plan(settings, recovery_id))

    shown = rewind(admin_env, "recover", "show", recovery_id)

    assert "planRefused" in shown.stdout
    assert "ended Failed before its plan" in shown.stdout
    assert "nothing to do" not in shown.stdout


async def _store_undo_snapshot(settings: Settings) -> None:
    mongo = Mongo(settings.mongo_url.get_secret_value(), settings.mongo_database)
    try:
        await PreRecoverySnapshots(mongo, SnapshotStore(mongo)).write(
            "pre-9",
            tenant_id=TENANT,
            recovery_id="rec-9",
            source_snapshot_id="s1",
            states=[ObjectState("user", USER, {"id": USER, "displayName": "Adele Vance"})],
            at=utcnow(),
        )
    finally:
        await mongo.close()


def test_the_snapshot_that_undoes_a_recovery_is_shown_and_browsed(
    settings: Settings,
    admin_env: dict[str, str],  # noqa: F811
) -> None:
    asyncio.run(_seed(settings))
    asyncio.run(_store_undo_snapshot(settings))

    shown = rewind(admin_env, "snapshot", "show", "pre-9")
    listed = rewind(admin_env, "snapshot", "list")

    assert shown.exit_code == 0, shown.output
    for text in ("preRecovery (partial", "rec-9", "Recovered from", "kept with its recovery"):
        assert text in shown.stdout, text
    assert "pre-9" not in listed.stdout
    assert "s1" in listed.stdout
