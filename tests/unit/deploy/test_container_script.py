"""deploy/docker/rewind-container.py: connection URLs from secret files, a fresh metrics
directory, and the healthchecks."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.unit.deploy.support import CONTAINER_SCRIPT, load_container_script

script: Any = load_container_script()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "password"
    path.write_text("p@ss:w/rd\n", encoding="utf-8")
    return path


def test_mongo_url_is_built_from_the_user_and_the_secret_file(secret: Path) -> None:
    url = script.mongo_url({"MONGO_USERNAME": "rewind_api", "MONGO_PASSWORD_FILE": str(secret)})
    parts = urlsplit(url)
    assert parts.scheme == "mongodb"
    assert parts.username == "rewind_api"
    assert parts.password == "p%40ss%3Aw%2Frd", "the password is percent-encoded"
    assert parts.hostname == "mongo"
    assert parts.port == 27017
    assert parse_qs(parts.query) == {"authSource": ["rewind"]}


def test_mongo_url_follows_the_database_and_options(secret: Path) -> None:
    url = script.mongo_url(
        {
            "MONGO_USERNAME": "u",
            "MONGO_PASSWORD_FILE": str(secret),
            "MONGO_HOSTS": "m1:27017,m2:27017",
            "REWIND_MONGO_DATABASE": "rewind_prod",
            "MONGO_OPTIONS": "replicaSet=rs0&tls=true",
        }
    )
    assert "@m1:27017,m2:27017/?" in url
    query = parse_qs(url.split("?", 1)[1])
    assert query == {"authSource": ["rewind_prod"], "replicaSet": ["rs0"], "tls": ["true"]}


def test_redis_url_is_built_from_the_user_and_the_secret_file(secret: Path) -> None:
    url = script.redis_url({"REDIS_USERNAME": "rewind", "REDIS_PASSWORD_FILE": str(secret)})
    assert url == "redis://rewind:p%40ss%3Aw%2Frd@redis:6379/0"


def test_urls_set_explicitly_are_kept(secret: Path) -> None:
    env = {
        "REWIND_MONGO_URL": "mongodb://elsewhere",
        "MONGO_USERNAME": "u",
        "MONGO_PASSWORD_FILE": str(secret),
        "REDIS_USERNAME": "rewind",
        "REDIS_PASSWORD_FILE": str(secret),
    }
    prepared = script.service_environment(env)
    assert prepared["REWIND_MONGO_URL"] == "mongodb://elsewhere"
    assert prepared["REWIND_REDIS_URL"].startswith("redis://rewind:")


def test_no_credentials_means_no_url() -> None:
    assert script.service_environment({"PATH": "/bin"}) == {"PATH": "/bin"}


@pytest.mark.parametrize(
    "env",
    [
        {"MONGO_USERNAME": "u"},
        {"MONGO_PASSWORD_FILE": "/nonexistent/secret"},
        {"MONGO_USERNAME": "u", "MONGO_PASSWORD_FILE": "/nonexistent/secret"},
    ],
)
def test_incomplete_credentials_are_a_configuration_error(env: dict[str, str]) -> None:
    with pytest.raises(script.ConfigError):
        script.mongo_url(env)


def test_an_empty_secret_is_a_configuration_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(script.ConfigError, match="empty"):
        script.redis_url({"REDIS_USERNAME": "rewind", "REDIS_PASSWORD_FILE": str(empty)})


def test_the_multiprocess_directory_starts_empty(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"stale")
    (directory / "gauge_mostrecent_9.db").write_bytes(b"stale")
    (directory / "keep.txt").write_text("not a sample file", encoding="utf-8")
    removed = script.clear_multiprocess_dir({"PROMETHEUS_MULTIPROC_DIR": str(directory)})
    assert removed == 2
    assert [p.name for p in directory.iterdir()] == ["keep.txt"]


def test_run_execs_the_command_with_the_urls(tmp_path: Path, secret: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(CONTAINER_SCRIPT),
            "run",
            "--",
            sys.executable,
            "-c",
            "import os; print(os.environ['REWIND_REDIS_URL'])",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={
            "REDIS_USERNAME": "rewind",
            "REDIS_PASSWORD_FILE": str(secret),
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "redis://rewind:p%40ss%3Aw%2Frd@redis:6379/0"
    assert (tmp_path / "metrics").is_dir()


def test_a_misconfigured_container_exits_with_ex_config() -> None:
    result = subprocess.run(
        [sys.executable, str(CONTAINER_SCRIPT), "run", "--", "true"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"MONGO_USERNAME": "rewind_api"},
    )
    assert result.returncode == 78
    assert "MONGO_PASSWORD_FILE" in result.stderr


def test_unknown_arguments_print_the_usage() -> None:
    assert script.main(["health", "tcp"]) == 2


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_health_follows_the_status(http_server: str) -> None:
    assert script.main(["health", "http", f"{http_server}/healthz"]) == 0
    assert script.main(["health", "http", f"{http_server}/readyz"]) == 1


def test_http_health_fails_when_nothing_listens() -> None:
    assert script.http_healthy("http://127.0.0.1:9/healthz", timeout=2) is False


def test_http_health_refuses_other_schemes() -> None:
    assert script.main(["health", "http", "file:///etc/passwd"]) == 78


@pytest.mark.parametrize(
    ("node", "healthy"),
    [
        ("snapshotter@c0ffee123456", True),
        ("celery@c0ffee123456.example", True),
        ("recorder@c0ffee12345", False),
        ("snapshotter@other", False),
    ],
)
def test_a_celery_node_belongs_to_this_container_by_hostname(node: str, healthy: bool) -> None:
    assert script.own_node(node, "c0ffee123456") is healthy
