"""``rewind diff`` against a real API server: starting a report from options, listing
reports, and showing a stored report as a table and as JSON."""

from __future__ import annotations

import asyncio
import json

from rewind_common.domain.changes import ACTION_FOR, Change, ChangeKind, LinkChange, PropertyChange
from rewind_common.jobs.model import utcnow
from rewind_common.settings import Settings
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.reports import ReportRecord, ReportStore
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tasks import DifferenceReportPayload, Queue
from tests.integration.api.support import TENANT, queued_tasks, store_snapshot
from tests.integration.api.test_cli import admin_env, env, rewind  # noqa: F401  (fixtures)

USER = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
GROUP = "3ee3a9de-0a86-4e12-a287-9769accf1ba2"
POLICY = "41db898e-14c2-432a-ab86-290ba5acd341"


async def _seed(settings: Settings, report_id: str | None = None) -> None:
    mongo = Mongo(settings.mongo_url.get_secret_value(), settings.mongo_database)
    try:
        await store_snapshot(SnapshotStore(mongo), "s1")
        if report_id is None:
            return
        reports = ReportStore(mongo)
        await reports.start(ReportRecord(report_id, TENANT, "s1", None, None, created_at=utcnow()))
        changes = [
            Change(
                "user", USER, "Adele Vance", ChangeKind.UPDATED, ACTION_FOR[ChangeKind.UPDATED],
                properties=(PropertyChange("jobTitle", "Engineer", "Compromised"),),
            ),
            Change(
                "group", GROUP, "Finance", ChangeKind.LINKS_CHANGED,
                ACTION_FOR[ChangeKind.LINKS_CHANGED],
                links={"members": LinkChange(removed=(USER,))},
            ),
            Change(
                "conditionalAccessPolicy", POLICY, "Require MFA", ChangeKind.UPDATED,
                ACTION_FOR[ChangeKind.UPDATED],
                properties=(
                    PropertyChange(
                        "conditions.users.excludeGroups", [GROUP], [], recoverable=False,
                        reason="unresolvable reference: group",
                    ),
                ),
                recoverable=False, reason="conditions.users.excludeGroups: unresolvable",
            ),
        ]  # fmt: skip
        await reports.put_changes(report_id, changes)
        summary, _ = await reports.summarize(report_id)
        await reports.complete(report_id, summary=summary, completed_at=utcnow())
    finally:
        await mongo.close()


def test_create_sends_the_scope_built_from_options(
    settings: Settings,
    admin_env: dict[str, str],  # noqa: F811
) -> None:
    asyncio.run(_seed(settings))
    result = rewind(
        admin_env,
        "diff", "create", "--snapshot", "s1", "--type", "group",
        "--id", f"user:{USER}", "--id", f"conditionalAccessPolicy:{POLICY}", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout)
    assert job["kind"] == "differenceReport"

    async def queued() -> DifferenceReportPayload:
        import redis.asyncio as aioredis

        redis = aioredis.Redis.from_url(settings.redis_url.get_secret_value())
        try:
            tasks = await queued_tasks(redis, Queue.DIFFS.value)
        finally:
            await redis.aclose()
        return DifferenceReportPayload.model_validate(tasks[0].args[0])

    payload = asyncio.run(queued())
    assert payload.scope == {
        "types": ["group"],
        "objects": [
            {"type": "user", "ids": [USER]},
            {"type": "conditionalAccessPolicy", "ids": [POLICY]},
        ],
    }


def test_create_rejects_bad_options_before_calling_the_api(
    settings: Settings,
    admin_env: dict[str, str],  # noqa: F811
) -> None:
    bad_id = rewind(admin_env, "diff", "create", "--snapshot", "s1", "--id", "user")
    bad_type = rewind(admin_env, "diff", "create", "--snapshot", "s1", "--type", "device")
    bad_guid = rewind(admin_env, "diff", "create", "--snapshot", "s1", "--id", "user:nope")
    assert bad_id.exit_code == 2
    assert "TYPE:ID" in bad_id.output
    assert bad_type.exit_code == 2
    assert bad_guid.exit_code == 1
    assert "is not a valid user id" in bad_guid.output


def test_show_renders_changes_backup_to_current_and_json(
    settings: Settings,
    admin_env: dict[str, str],  # noqa: F811
) -> None:
    report_id = "0190e1c2-0000-7000-8000-000000000001"
    asyncio.run(_seed(settings, report_id))

    # A report is a job too: create one through the API, then seed its changes.
    started = rewind(admin_env, "diff", "create", "--snapshot", "s1", "--json")
    job_id = json.loads(started.stdout)["id"]
    asyncio.run(_seed_changes(settings, job_id))

    table = rewind(admin_env, "diff", "show", job_id)
    assert table.exit_code == 0, table.output
    text = table.stdout
    assert "jobTitle" in text
    assert "Engineer → Compromised" in text
    assert "members" in text
    assert f"removed: {USER}" in text
    assert "no: unresolvable reference: group" in text
    assert "updated 1" in text  # the summary

    only_groups = rewind(admin_env, "diff", "show", job_id, "--type", "group", "--json")
    data = json.loads(only_groups.stdout)
    assert [c["type"] for c in data["changes"]] == ["group"]
    assert data["report"]["summary"]["group"] == {"linksChanged": 1}

    listed = rewind(admin_env, "diff", "list")
    assert listed.exit_code == 0
    assert job_id in listed.stdout


async def _seed_changes(settings: Settings, report_id: str) -> None:
    mongo = Mongo(settings.mongo_url.get_secret_value(), settings.mongo_database)
    try:
        other = "0190e1c2-0000-7000-8000-000000000001"
        reports = ReportStore(mongo)
        await reports.start(ReportRecord(report_id, TENANT, "s1", None, None, created_at=utcnow()))
        await reports.put_changes(report_id, [c async for c in reports.iter_changes(other)])
        summary, _ = await reports.summarize(report_id)
        await reports.complete(report_id, summary=summary, completed_at=utcnow())
    finally:
        await mongo.close()
