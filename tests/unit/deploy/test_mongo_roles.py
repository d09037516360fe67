"""MongoDB's least-privilege roles (deploy/mongo/roles.json): they name real collections,
keep snapshot data insert-only (only the retention worker's user may remove it), and give
each service only its own user."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rewind_common.storage.mongo import INSERT_ONLY, Collection
from rewind_common.tasks import TASK_QUEUES, Queue, TaskName
from tests.unit.deploy.support import (
    DEPLOY,
    MONGO_ROLES_FILE,
    environment,
    secret_names,
    services,
)

INIT_SCRIPT = DEPLOY / "mongo" / "initdb.d" / "10-rewind-roles.js"
#: Privilege actions the roles may use (MongoDB's names).
ACTIONS = frozenset({"find", "insert", "update", "remove", "createIndex"})
WRITES = frozenset({"insert", "update", "remove"})
SNAPSHOT_DATA = {collection.value for collection in INSERT_ONLY}
ALL_COLLECTIONS = {collection.value for collection in Collection}
RETENTION_USER = "rewind_retention"
#: The queue each worker program consumes when its command names none (``--queues``).
DEFAULT_QUEUES = {
    "rewind-snapshotter": Queue.SNAPSHOTS,
    "rewind-differ": Queue.DIFFS,
    "rewind-recoverer": Queue.RECOVERIES,
    "rewind-recorder": Queue.JOB_STATUS,
}


def spec() -> dict[str, Any]:
    value = json.loads(MONGO_ROLES_FILE.read_text(encoding="utf-8"))
    assert isinstance(value, dict)
    return value


def roles() -> dict[str, dict[str, Any]]:
    return {role["role"]: role for role in spec()["roles"]}


def users() -> dict[str, dict[str, Any]]:
    return {user["user"]: user for user in spec()["users"]}


def grants(role_names: list[str]) -> dict[str, set[str]]:
    """Collection → actions, over roles and the roles they inherit."""
    result: dict[str, set[str]] = {}
    pending = list(role_names)
    while pending:
        role = roles()[pending.pop()]
        pending += role["roles"]
        for privilege in role["privileges"]:
            for collection in privilege["collections"]:
                result.setdefault(collection, set()).update(privilege["actions"])
    return result


def user_grants(name: str) -> dict[str, set[str]]:
    return grants(users()[name]["roles"])


def test_roles_name_only_collections_the_code_uses() -> None:
    named = {
        collection
        for role in spec()["roles"]
        for privilege in role["privileges"]
        for collection in privilege["collections"]
    }
    assert named <= ALL_COLLECTIONS, f"unknown collections: {sorted(named - ALL_COLLECTIONS)}"


def test_roles_use_known_actions_and_existing_roles() -> None:
    for role in spec()["roles"]:
        for privilege in role["privileges"]:
            assert set(privilege["actions"]) <= ACTIONS, role["role"]
            assert privilege["actions"], role["role"]
        assert set(role["roles"]) <= set(roles())
    for user in spec()["users"]:
        assert set(user["roles"]) <= set(roles()), user["user"]


def test_database_is_the_settings_default() -> None:
    from rewind_common.settings import Settings

    assert spec()["database"] == Settings().mongo_database


def test_the_api_reads_every_collection_and_creates_every_index() -> None:
    api = user_grants("rewind_api")
    for collection in ALL_COLLECTIONS:
        assert {"find", "createIndex"} <= api.get(collection, set()), collection


def test_the_api_writes_only_its_own_collections() -> None:
    written = {c for c, actions in user_grants("rewind_api").items() if actions & WRITES}
    assert written == {
        Collection.JOBS.value,
        Collection.TOKENS.value,
        Collection.IDEMPOTENCY.value,
        Collection.LEGAL_HOLDS.value,
        Collection.REPORTS.value,
    }


def test_the_snapshot_writer_role_is_find_and_insert_on_snapshot_data() -> None:
    assert grants(["rewindSnapshotWriter"]) == {c: {"find", "insert"} for c in SNAPSHOT_DATA}


def test_snapshot_data_is_never_updated() -> None:
    for name in users():
        for collection in SNAPSHOT_DATA:
            assert "update" not in user_grants(name).get(collection, set()), (name, collection)


def test_only_retention_removes_snapshot_data() -> None:
    removers = {
        role
        for role in roles()
        if any("remove" in grants([role]).get(c, set()) for c in SNAPSHOT_DATA)
    }
    assert removers == {"rewindRetention"}
    staging = {Collection.REPORT_STAGING.value, Collection.MANIFEST_STAGING.value}
    reports = {Collection.REPORTS.value, Collection.CHANGES.value}
    removes = {c for c, a in grants(["rewindRetention"]).items() if "remove" in a}
    assert removes == SNAPSHOT_DATA | reports | staging
    assert not any(a & {"insert", "update"} for a in grants(["rewindRetention"]).values())
    holders = [name for name, user in users().items() if "rewindRetention" in user["roles"]]
    assert holders == [RETENTION_USER]


@pytest.mark.parametrize("name", sorted(set(users()) - {RETENTION_USER}))
def test_no_other_user_may_remove_or_update_snapshot_data(name: str) -> None:
    granted = user_grants(name)
    for collection in SNAPSHOT_DATA:
        assert not granted.get(collection, set()) & {"remove", "update"}, (name, collection)


def test_the_retention_user_only_reads_and_removes() -> None:
    granted = user_grants(RETENTION_USER)
    for collection in SNAPSHOT_DATA:
        assert granted[collection] == {"find", "remove"}, "it never writes a backup"
    writes = {c for c, actions in granted.items() if actions & {"insert", "update"}}
    assert writes == {Collection.JOB_CHECKPOINTS.value}, "only its own checkpoints"
    assert "update" not in granted[Collection.JOBS.value], "status goes through the queue"
    assert not granted.get(Collection.LEGAL_HOLDS.value, set()) & WRITES
    assert not granted.get(Collection.TOKENS.value)
    assert "createIndex" not in {a for actions in granted.values() for a in actions}


def test_legal_holds_are_lifted_only_through_the_api() -> None:
    for name in users():
        writes = user_grants(name).get(Collection.LEGAL_HOLDS.value, set()) & WRITES
        assert not writes or name == "rewind_api", name


@pytest.mark.parametrize("name", ["rewind_snapshotter", "rewind_differ", "rewind_recoverer"])
def test_workers_only_append_snapshot_data_and_keep_checkpoints(name: str) -> None:
    granted = user_grants(name)
    for collection in SNAPSHOT_DATA:
        assert granted[collection] == {"find", "insert"}
    assert {"find", "insert", "update"} <= granted[Collection.JOB_CHECKPOINTS.value]
    assert "update" not in granted[Collection.JOBS.value], "status goes through the queue"
    assert not granted.get(Collection.TOKENS.value), "workers never see API tokens"
    assert "createIndex" not in {a for actions in granted.values() for a in actions}


def test_report_and_action_collections_belong_to_their_worker() -> None:
    reports = {Collection.REPORTS.value, Collection.CHANGES.value}
    actions = Collection.RECOVERY_ACTIONS.value
    for name in users():
        granted = user_grants(name)
        if name not in ("rewind_differ", "rewind_api"):
            writes = {a for c in reports for a in granted.get(c, set()) & WRITES}
            # retention may remove expired reports, never write one
            assert writes <= ({"remove"} if name == RETENTION_USER else set()), name
        if name != "rewind_recoverer":
            assert not granted.get(actions, set()) & WRITES, name


def test_the_recorder_only_updates_jobs() -> None:
    assert user_grants("rewind_recorder") == {Collection.JOBS.value: {"find", "update"}}


def test_each_rewind_service_logs_in_as_its_own_user() -> None:
    by_service = {
        name: environment(service)
        for name, service in services().items()
        if "MONGO_USERNAME" in environment(service)
    }
    assert set(by_service) == {"api", "recorder", "snapshotter", "retention", "differ", "recoverer"}
    logins = [env["MONGO_USERNAME"] for env in by_service.values()]
    assert len(logins) == len(set(logins)), "no two services share a MongoDB user"
    for name, env in by_service.items():
        assert env["MONGO_USERNAME"] in users(), f"{name}: no such user in roles.json"
        user = users()[env["MONGO_USERNAME"]]
        assert env["MONGO_PASSWORD_FILE"] == f"/run/secrets/{user['passwordSecret']}", name
    assert set(users()) == set(logins)


def consumed_queues(service: dict[str, Any]) -> set[Queue]:
    """The queues a compose service's worker consumes: its ``--queues``, or its program's."""
    command = [str(word) for word in service.get("command") or []]
    if not command or command[0] not in DEFAULT_QUEUES:
        return set()
    if "--queues" not in command:
        return {DEFAULT_QUEUES[command[0]]}
    names = command[command.index("--queues") + 1].split(",")
    return {Queue(name) for name in names}


def test_only_the_retention_users_service_takes_retention_jobs() -> None:
    retention_queue = TASK_QUEUES[TaskName.RETENTION]
    assert [task for task, queue in TASK_QUEUES.items() if queue is retention_queue] == [
        TaskName.RETENTION
    ], "the queue carries nothing but retention jobs"
    consumers = {
        name for name, service in services().items() if retention_queue in consumed_queues(service)
    }
    assert consumers == {"retention"}
    assert environment(services()["retention"])["MONGO_USERNAME"] == RETENTION_USER
    assert consumed_queues(services()["retention"]) == {retention_queue}
    assert "tenants" not in secret_names(services()["retention"]), "retention never calls Graph"


def test_every_queue_has_a_consumer_in_the_stack() -> None:
    consumed = set().union(*(consumed_queues(service) for service in services().values()))
    assert consumed == set(Queue)


def test_mongo_gets_every_user_password_and_the_role_spec() -> None:
    mongo = services()["mongo"]
    needed = {user["passwordSecret"] for user in users().values()} | {"mongo_root_password"}
    assert needed <= secret_names(mongo)
    mounts = dict(reversed(volume.split(":")[:2]) for volume in mongo["volumes"])
    assert (DEPLOY / mounts["/etc/rewind/mongo/roles.json"]).resolve() == MONGO_ROLES_FILE
    initdb = DEPLOY / mounts["/docker-entrypoint-initdb.d"]
    assert INIT_SCRIPT.parent.resolve() == initdb.resolve()
    script = INIT_SCRIPT.read_text(encoding="utf-8")
    assert '"/etc/rewind/mongo/roles.json"' in script
    assert '"/run/secrets"' in script


HARNESS = """
const vm = require("vm");
const fs = require("fs");
const calls = [];
const existing = new Set(JSON.parse(process.env.EXISTING || "[]"));
const database = {
  getRole: (name) => existing.has(name) ? {role: name} : null,
  getUser: (name) => existing.has(name) ? {user: name} : null,
  createRole: (role) => calls.push(["createRole", role]),
  updateRole: (name, role) => calls.push(["updateRole", Object.assign({role: name}, role)]),
  createUser: (user) => calls.push(["createUser", user]),
  updateUser: (name, user) => calls.push(["updateUser", Object.assign({user: name}, user)]),
};
const context = {
  require, process, print: () => {},
  db: {getSiblingDB: (name) => { calls.push(["database", name]); return database; }},
};
vm.runInNewContext(fs.readFileSync(process.argv[2], "utf8"), context);
console.log(JSON.stringify(calls));
"""


def run_init_script(tmp_path: Path, existing: list[str]) -> list[list[Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the init script's logic is not exercised")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for user in users().values():
        (secrets / user["passwordSecret"]).write_text(f"pw-{user['user']}\n", encoding="utf-8")
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS, encoding="utf-8")
    result = subprocess.run(
        [node, str(harness), str(INIT_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "REWIND_MONGO_ROLES": str(MONGO_ROLES_FILE),
            "REWIND_MONGO_SECRETS_DIR": str(secrets),
            "EXISTING": json.dumps(existing),
        },
    )
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout)
    assert isinstance(calls, list)
    return calls


def test_init_script_creates_the_roles_and_users_of_the_spec(tmp_path: Path) -> None:
    calls = run_init_script(tmp_path, existing=[])
    assert calls[0] == ["database", "rewind"]
    created_roles = {c[1]["role"]: c[1] for c in calls if c[0] == "createRole"}
    assert set(created_roles) == set(roles())
    snapshot_writer = created_roles["rewindSnapshotWriter"]
    assert {p["resource"]["collection"] for p in snapshot_writer["privileges"]} == SNAPSHOT_DATA
    for privilege in snapshot_writer["privileges"]:
        assert privilege["resource"]["db"] == "rewind"
        assert privilege["actions"] == ["find", "insert"]
    created_users = {c[1]["user"]: c[1] for c in calls if c[0] == "createUser"}
    assert set(created_users) == set(users())
    for name, user in created_users.items():
        assert user["pwd"] == f"pw-{name}", "the secret file without its line break"
        assert [r["role"] for r in user["roles"]] == users()[name]["roles"]


def test_init_script_updates_what_exists(tmp_path: Path) -> None:
    existing = [*roles(), *users()]
    calls = run_init_script(tmp_path, existing=existing)
    assert {c[0] for c in calls} == {"database", "updateRole", "updateUser"}
