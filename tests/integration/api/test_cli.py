"""The ``rewind`` CLI against a real API server (uvicorn on a free port); a simulated
worker reports statuses through the recorder's code, as the snapshotter would."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import threading
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from typer.testing import CliRunner, Result

from rewind_api.cli.main import app as cli
from rewind_api.events import JobEvents
from rewind_api.recorder import StatusRecorder
from rewind_common.jobs.control import JobControl
from rewind_common.jobs.messages import StatusMessage
from rewind_common.jobs.model import JobError, JobStatus, JobWarning, Progress
from rewind_common.settings import Settings
from rewind_common.storage.jobs import JobRepository
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tasks import Queue, VerifyPayload
from tests.integration.api.support import (
    OTHER_TENANT,
    TENANT,
    eventually,
    queued_tasks,
    store_snapshot,
)
from tests.integration.api.test_events import wait_for_listener


@pytest.fixture
def env(settings: Settings, api_url: str) -> dict[str, str]:
    """What a shell running ``rewind`` would export."""
    return {
        "REWIND_MONGO_URL": settings.mongo_url.get_secret_value(),
        "REWIND_MONGO_DATABASE": settings.mongo_database,
        "REWIND_API_URL": api_url,
        "REWIND_TENANT": TENANT,
        "REWIND_TOKEN": "",
        "REWIND_TOKEN_FILE": "",
    }


def rewind(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def admin_env(env: dict[str, str]) -> dict[str, str]:
    created = rewind(env, "tokens", "create", "--role", "admin", "--name", "cli", "--quiet")
    assert created.exit_code == 0, created.output
    assert created.stderr == ""
    return {**env, "REWIND_TOKEN": created.stdout.strip()}


def in_background(work: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run ``work`` on its own event loop in a thread; the returned call joins it and
    re-raises what it raised."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(work())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> None:
        thread.join(30)
        assert not thread.is_alive(), "the simulated worker did not finish"
        if errors:
            raise errors[0]

    return join


Report = Callable[..., Coroutine[Any, Any, None]]
Finish = Callable[[Mongo, str, Report], Coroutine[Any, Any, None]]


def simulate_worker(settings: Settings, finish: Finish) -> Callable[[], None]:
    """Takes the oldest task queued on the snapshots queue, waits for someone to follow its job,
    reports progress through the recorder's code, then lets ``finish`` report the end
    (given the snapshot the task names)."""

    async def work() -> None:
        redis = aioredis.Redis.from_url(settings.redis_url.get_secret_value())
        mongo = Mongo(settings.mongo_url.get_secret_value(), settings.mongo_database)
        try:
            tasks = await eventually(lambda: queued_tasks(redis, Queue.SNAPSHOTS.value))
            await redis.rpop(Queue.SNAPSHOTS.value)  # taken, as a worker takes it
            payload = VerifyPayload.model_validate(tasks[0].args[0])
            await wait_for_listener(redis, payload.job_id)
            recorder = StatusRecorder(JobRepository(mongo), JobEvents(redis))
            control = JobControl(redis)

            async def report(status: JobStatus, **fields: Any) -> None:
                seq = await control.next_seq(payload.job_id)
                message = StatusMessage(
                    job_id=payload.job_id, tenant_id=TENANT, seq=seq, status=status, **fields
                )
                await recorder.record(message.model_dump(mode="json", by_alias=True))

            await report(JobStatus.LOADING_DATA)
            for done in (1, 2, 3):
                await report(JobStatus.IN_PROGRESS, progress=Progress(done=done, total=3))
                await asyncio.sleep(0.05)
            await finish(mongo, payload.snapshot_id, report)
        finally:
            await redis.aclose()
            await mongo.close()

    return in_background(work)


def simulate_snapshotter(settings: Settings, final: JobStatus) -> Callable[[], None]:
    """A snapshot job that ends ``final``, its snapshot stored when it completes."""

    async def finish(mongo: Mongo, snapshot_id: str, report: Report) -> None:
        if final is JobStatus.COMPLETED:
            await store_snapshot(SnapshotStore(mongo), snapshot_id)
            await report(final, result={"snapshotId": snapshot_id})
        else:
            await report(final, error=JobError(code="graphError", message="Graph said no"))

    return simulate_worker(settings, finish)


def simulate_verifier(settings: Settings, *, tampered: str | None) -> Callable[[], None]:
    """A verify job that finds every hash matching, or the ``tampered`` object not."""

    async def finish(mongo: Mongo, snapshot_id: str, report: Report) -> None:
        result = {"snapshotId": snapshot_id, "objects": 4, "mismatches": 0}
        if tampered is None:
            await report(JobStatus.COMPLETED, result=result)
            return
        await report(
            JobStatus.FAILED,
            warnings=[JobWarning(type="user", object_id=tampered, reason="hash mismatch")],
            result={**result, "mismatches": 1},
            error=JobError(code="integrityMismatch", message="1 mismatch (see the warnings)"),
        )

    return simulate_worker(settings, finish)


def _seed_snapshot(
    settings: Settings, snapshot_id: str, created_at: datetime | None = None
) -> None:
    async def seed() -> None:
        mongo = Mongo(settings.mongo_url.get_secret_value(), settings.mongo_database)
        try:
            await store_snapshot(SnapshotStore(mongo), snapshot_id, created_at=created_at)
        finally:
            await mongo.close()

    asyncio.run(seed())


def test_a_created_token_works_from_env_file_and_the_default_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    created = rewind(env, "tokens", "create", "--role", "reader", "--name", "ci")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("rwd_")
    assert "reader token 'ci'" in created.stderr

    listed = rewind({**env, "REWIND_TOKEN": token}, "snapshot", "list")
    assert listed.exit_code == 0, listed.output
    assert "no snapshot yet" in listed.stdout

    token_file = tmp_path / "token"
    written = rewind(
        env, "tokens", "create", "--role", "reader", "--name", "f", "--output", str(token_file)
    )
    assert written.exit_code == 0
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token_file.read_text().strip() not in written.output
    from_file = rewind({**env, "REWIND_TOKEN_FILE": str(token_file)}, "jobs", "list")
    assert from_file.exit_code == 0, from_file.output

    default = tmp_path / "var" / "admin-token"
    default.parent.mkdir()
    default.write_text(token + "\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        from_default = rewind(env, "jobs", "list")
    finally:
        os.chdir(cwd)
    assert from_default.exit_code == 0, from_default.output

    no_token = rewind(env, "jobs", "list")
    assert no_token.exit_code == 1
    assert "REWIND_TOKEN" in no_token.stderr
    readers_cannot = rewind({**env, "REWIND_TOKEN": token}, "snapshot", "create")
    assert readers_cannot.exit_code == 1
    assert "operator" in readers_cannot.stderr


def test_snapshot_create_wait_follows_the_job_to_its_end(
    settings: Settings, admin_env: dict[str, str]
) -> None:
    worker = simulate_snapshotter(settings, JobStatus.COMPLETED)
    result = rewind(admin_env, "snapshot", "create", "--mode", "full", "--wait", "--json")
    worker()
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["job"]["status"] == "Completed"
    assert summary["job"]["progress"] == {"done": 3, "total": 3}
    assert summary["snapshot"]["id"] == summary["job"]["snapshotId"]
    assert summary["snapshot"]["counts"] == {"user": 3, "group": 1}
    assert "snapshot Completed" in result.stderr  # the progress bar's last state


def test_snapshot_create_wait_prints_a_summary(
    settings: Settings, admin_env: dict[str, str]
) -> None:
    worker = simulate_snapshotter(settings, JobStatus.COMPLETED)
    result = rewind(admin_env, "snapshot", "create", "--wait")
    worker()
    assert result.exit_code == 0, result.output
    assert "Completed" in result.stdout
    assert "4 objects, 4 new versions" in result.stdout
    assert "group" in result.stdout


def test_a_failed_job_makes_the_command_fail(settings: Settings, admin_env: dict[str, str]) -> None:
    worker = simulate_snapshotter(settings, JobStatus.FAILED)
    result = rewind(admin_env, "snapshot", "create", "--wait")
    worker()
    assert result.exit_code == 3
    assert "Failed" in result.stdout
    assert "graphError: Graph said no" in result.stdout


def test_lists_and_details_for_people_and_scripts(
    settings: Settings, admin_env: dict[str, str]
) -> None:
    snapshot_id = "01890000-0000-7000-8000-000000000001"
    _seed_snapshot(settings, snapshot_id)
    table = rewind(admin_env, "snapshot", "list")
    assert table.exit_code == 0
    assert snapshot_id in table.stdout
    assert "full" in table.stdout
    as_json = json.loads(rewind(admin_env, "snapshot", "list", "--json").stdout)
    assert [s["id"] for s in as_json["items"]] == [snapshot_id]
    assert as_json["next"] is None

    shown = rewind(admin_env, "snapshot", "show", snapshot_id)
    assert shown.exit_code == 0
    assert "Merkle root" in shown.stdout
    assert "not while it is the newest snapshot" in shown.stdout
    assert (
        json.loads(rewind(admin_env, "snapshot", "show", snapshot_id, "--json").stdout)["legalHold"]
        is False
    )
    missing = rewind(admin_env, "snapshot", "show", "nope")
    assert missing.exit_code == 1
    assert "notFound" in missing.stderr

    created = rewind(admin_env, "snapshot", "create", "--json")
    job = json.loads(created.stdout)
    jobs = json.loads(rewind(admin_env, "jobs", "list", "--json").stdout)
    assert [j["id"] for j in jobs["items"]] == [job["id"]]
    listed = rewind(admin_env, "jobs", "list", "--kind", "snapshot")
    assert job["id"] in listed.stdout
    assert "Queued" in listed.stdout
    assert "Queued" in rewind(admin_env, "jobs", "show", job["id"]).stdout


def test_verify_wait_says_whether_every_hash_matches(
    settings: Settings, admin_env: dict[str, str]
) -> None:
    snapshot_id = "01890000-0000-7000-8000-000000000002"
    _seed_snapshot(settings, snapshot_id)

    worker = simulate_verifier(settings, tampered=None)
    verified = rewind(admin_env, "snapshot", "verify", snapshot_id, "--wait")
    worker()
    assert verified.exit_code == 0, verified.output
    assert f"snapshot {snapshot_id} verified: 4 objects" in verified.stdout

    worker = simulate_verifier(settings, tampered="u001")
    tampered = rewind(admin_env, "snapshot", "verify", snapshot_id, "--wait")
    worker()
    assert tampered.exit_code == 3
    assert "integrityMismatch" in tampered.stdout
    assert "user u001: hash mismatch" in tampered.stdout

    unknown = rewind(admin_env, "snapshot", "verify", "nope")
    assert unknown.exit_code == 1
    assert "notFound" in unknown.stderr


def test_a_legal_hold_is_placed_shown_and_lifted(
    env: dict[str, str], admin_env: dict[str, str], settings: Settings
) -> None:
    snapshot_id = "01890000-0000-7000-8000-000000000003"
    _seed_snapshot(settings, snapshot_id)

    placed = rewind(admin_env, "snapshot", "hold", snapshot_id, "--reason", "case 2026-114")
    assert placed.exit_code == 0, placed.output
    assert "case 2026-114" in placed.stdout
    assert "by cli" in placed.stdout  # the name of the token that placed it
    shown = json.loads(rewind(admin_env, "snapshot", "show", snapshot_id, "--json").stdout)
    assert shown["legalHold"] is True
    assert shown["legalHoldDetail"]["reason"] == "case 2026-114"
    assert shown["expiresAt"] is None

    reader = rewind(env, "tokens", "create", "--role", "reader", "--name", "r", "--quiet")
    readers_cannot = rewind(
        {**env, "REWIND_TOKEN": reader.stdout.strip()}, "snapshot", "release", snapshot_id
    )
    assert readers_cannot.exit_code == 1
    assert "admin" in readers_cannot.stderr

    lifted = rewind(admin_env, "snapshot", "release", snapshot_id, "--json")
    assert lifted.exit_code == 0, lifted.output
    assert json.loads(lifted.stdout)["legalHold"] is False
    assert json.loads(lifted.stdout)["legalHoldDetail"] is None


def test_what_a_snapshot_holds_is_read_object_by_object(
    settings: Settings, admin_env: dict[str, str]
) -> None:
    snapshot_id = "01890000-0000-7000-8000-000000000004"
    _seed_snapshot(settings, snapshot_id)

    users = rewind(admin_env, "snapshot", "objects", snapshot_id, "--type", "user", "--limit", "2")
    assert users.exit_code == 0, users.output
    assert "User 0" in users.stdout
    assert "User 1" in users.stdout
    assert "User 2" not in users.stdout
    more = users.stdout.split("more: --cursor ")[1].strip()
    rest = rewind(
        admin_env, "snapshot", "objects", snapshot_id, "--type", "user", "--cursor", more, "--json"
    )
    [deleted] = json.loads(rest.stdout)["items"]
    assert (deleted["objectId"], deleted["deleted"]) == ("u002", True)

    group = rewind(admin_env, "snapshot", "object", snapshot_id, "group", "g001")
    assert group.exit_code == 0, group.output
    assert '"displayName": "Admins"' in group.stdout
    assert "members (2): u000, u001" in group.stdout
    assert "owners (1): u002" in group.stdout
    user = json.loads(
        rewind(admin_env, "snapshot", "object", snapshot_id, "user", "u000", "--json").stdout
    )
    assert user["body"] == {"id": "u000", "displayName": "User 0"}
    assert user["links"]["manager"] == "u001"

    unknown_type = rewind(admin_env, "snapshot", "objects", snapshot_id, "--type", "printer")
    assert unknown_type.exit_code == 1
    assert "printer" in unknown_type.stderr
    missing = rewind(admin_env, "snapshot", "object", snapshot_id, "user", "nope")
    assert missing.exit_code == 1
    assert "notFound" in missing.stderr


def test_latest_names_the_newest_snapshot(settings: Settings, admin_env: dict[str, str]) -> None:
    none_yet = rewind(admin_env, "snapshot", "show", "latest")
    assert none_yet.exit_code == 1
    assert "no snapshot yet" in none_yet.stderr

    older, newer = "01890000-0000-7000-8000-000000000005", "01890000-0000-7000-8000-000000000006"
    now = datetime.now(UTC)
    _seed_snapshot(settings, older, now - timedelta(days=1))
    _seed_snapshot(settings, newer, now)

    shown = rewind(admin_env, "snapshot", "show", "latest", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["id"] == newer
    assert f"latest snapshot: {newer}" in shown.stderr

    report = rewind(
        admin_env, "diff", "create", "--snapshot", older, "--compare-to", "latest", "--json"
    )
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["parameters"] == {"snapshotId": older, "compareTo": newer}


def test_jobs_cancel_and_watch(settings: Settings, admin_env: dict[str, str]) -> None:
    job = json.loads(rewind(admin_env, "snapshot", "create", "--json").stdout)

    async def recorder_applies_the_cancel() -> None:
        redis = aioredis.Redis.from_url(settings.redis_url.get_secret_value())
        mongo = Mongo(settings.mongo_url.get_secret_value(), settings.mongo_database)
        try:
            await wait_for_listener(redis, job["id"])
            messages = await eventually(lambda: queued_tasks(redis, Queue.JOB_STATUS.value))
            recorder = StatusRecorder(JobRepository(mongo), JobEvents(redis))
            await recorder.record(messages[0].args[0])
        finally:
            await redis.aclose()
            await mongo.close()

    applied = in_background(recorder_applies_the_cancel)
    canceled = rewind(admin_env, "jobs", "cancel", job["id"], "--wait")
    applied()
    assert canceled.exit_code == 0, canceled.output
    assert f"job {job['id']} ended Canceled" in canceled.stdout

    watched = rewind(admin_env, "jobs", "watch", job["id"], "--json")
    assert watched.exit_code == 4
    assert json.loads(watched.stdout)["status"] == "Canceled"
    again = rewind(admin_env, "jobs", "cancel", job["id"])
    assert again.exit_code == 1
    assert "already ended" in again.stderr


def test_the_tenant_must_be_chosen_when_several_are_configured(
    admin_env: dict[str, str],
) -> None:
    result = rewind({**admin_env, "REWIND_TENANT": ""}, "snapshot", "list")
    assert result.exit_code == 1
    assert TENANT in result.stderr
    assert OTHER_TENANT in result.stderr
    assert "--tenant" in result.stderr
    chosen = rewind({**admin_env, "REWIND_TENANT": ""}, "--tenant", OTHER_TENANT, "jobs", "list")
    assert chosen.exit_code == 0, chosen.output
