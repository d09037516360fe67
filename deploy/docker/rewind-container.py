#!/usr/bin/env python3
"""Entrypoint and healthcheck of Rewind's container images (installed as
``rewind-container``).

``rewind-container run -- CMD [ARG...]``
    Builds ``REWIND_MONGO_URL`` and ``REWIND_REDIS_URL`` from a user name and a password
    *file* (compose secrets), so no password is ever written into an environment file or
    shown by ``docker inspect``; empties the Prometheus multiprocess directory (samples of
    a previous run must not be aggregated into this one); then replaces itself with CMD.
    A URL already set in the environment is kept as it is.

``rewind-container health http URL``
    Healthy when URL answers with a status below 400.
``rewind-container health celery``
    Healthy when a Celery worker running in this container answers a broadcast ping.
``rewind-container health redis``
    Healthy when Redis answers PING with the service's credentials.

Variables read (none is a Rewind setting, so none has the ``REWIND_`` prefix):
``MONGO_USERNAME``, ``MONGO_PASSWORD_FILE``, ``MONGO_HOSTS`` (``host:port[,host:port]``),
``MONGO_AUTH_SOURCE`` (defaults to ``REWIND_MONGO_DATABASE`` or ``rewind``),
``MONGO_OPTIONS`` (extra URL query, e.g. ``tls=true&replicaSet=rs0``);
``REDIS_USERNAME``, ``REDIS_PASSWORD_FILE``, ``REDIS_ADDRESS`` (``host:port``),
``REDIS_DB`` (default 0); ``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

#: sysexits.h EX_CONFIG: the container is misconfigured; restarting will not help.
EX_CONFIG = 78
HEALTH_TIMEOUT_SECONDS = 5.0


class ConfigError(Exception):
    """The container's environment is incomplete or inconsistent."""


def read_secret(path: str) -> str:
    """A secret file's content without its trailing line break."""
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"cannot read secret file {path}: {exc.strerror}") from exc


def _credentials(env: Mapping[str, str], prefix: str) -> tuple[str, str] | None:
    user = env.get(f"{prefix}_USERNAME", "")
    password_file = env.get(f"{prefix}_PASSWORD_FILE", "")
    if not user and not password_file:
        return None
    if not user or not password_file:
        raise ConfigError(f"{prefix}_USERNAME and {prefix}_PASSWORD_FILE must be set together")
    password = read_secret(password_file)
    if not password:
        raise ConfigError(f"secret file {password_file} is empty")
    return quote(user, safe=""), quote(password, safe="")


def mongo_url(env: Mapping[str, str]) -> str | None:
    """The MongoDB URL for this service, or None when it has no MongoDB credentials."""
    credentials = _credentials(env, "MONGO")
    if credentials is None:
        return None
    user, password = credentials
    hosts = env.get("MONGO_HOSTS", "mongo:27017")
    database = env.get("REWIND_MONGO_DATABASE", "rewind")
    query = [("authSource", env.get("MONGO_AUTH_SOURCE", database))]
    query += parse_qsl(env.get("MONGO_OPTIONS", ""), keep_blank_values=True)
    return f"mongodb://{user}:{password}@{hosts}/?{urlencode(query)}"


def redis_url(env: Mapping[str, str]) -> str | None:
    """The Redis URL for this service, or None when it has no Redis credentials."""
    credentials = _credentials(env, "REDIS")
    if credentials is None:
        return None
    user, password = credentials
    address = env.get("REDIS_ADDRESS", "redis:6379")
    database = env.get("REDIS_DB", "0")
    return f"redis://{user}:{password}@{address}/{database}"


def service_environment(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` plus the connection URLs built from secret files (set ones are kept)."""
    result = dict(env)
    for name, build in (("REWIND_MONGO_URL", mongo_url), ("REWIND_REDIS_URL", redis_url)):
        if result.get(name):
            continue
        url = build(env)
        if url is not None:
            result[name] = url
    return result


def clear_multiprocess_dir(env: Mapping[str, str]) -> int:
    """Remove a previous run's sample files; returns how many were removed."""
    directory = env.get("PROMETHEUS_MULTIPROC_DIR", "")
    if not directory:
        return 0
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR {directory}: {exc.strerror}") from exc
    removed = 0
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
        removed += 1
    return removed


def run(argv: Sequence[str], env: Mapping[str, str]) -> None:
    """Prepare the environment, then exec ``argv`` (does not return)."""
    if not argv:
        raise ConfigError("no command given: rewind-container run -- CMD [ARG...]")
    prepared = service_environment(env)
    clear_multiprocess_dir(prepared)
    os.execvpe(argv[0], list(argv), prepared)  # noqa: S606 (the container's own command)


def http_healthy(url: str, timeout: float = HEALTH_TIMEOUT_SECONDS) -> bool:
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"not an HTTP URL: {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (checked above)
            return int(response.status) < 400
    except urllib.error.HTTPError as exc:
        return exc.code < 400
    except (urllib.error.URLError, OSError):
        return False


def _required_redis_url(env: Mapping[str, str]) -> str:
    url = service_environment(env).get("REWIND_REDIS_URL")
    if not url:
        raise ConfigError("no Redis credentials (REDIS_USERNAME, REDIS_PASSWORD_FILE)")
    return url


def redis_healthy(env: Mapping[str, str], timeout: float = HEALTH_TIMEOUT_SECONDS) -> bool:
    import redis

    client = redis.Redis.from_url(
        _required_redis_url(env), socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def own_node(nodename: str, hostname: str) -> bool:
    """Whether a Celery node name (``name@host``) is a worker of this container."""
    host = nodename.rpartition("@")[2]
    return host == hostname or host.startswith(hostname + ".")


def celery_healthy(env: Mapping[str, str], timeout: float = HEALTH_TIMEOUT_SECONDS) -> bool:
    from celery import Celery

    app = Celery("rewind-healthcheck", broker=_required_redis_url(env), set_as_current=False)
    app.conf.broker_connection_retry_on_startup = False
    app.conf.broker_connection_max_retries = 1
    hostname = socket.gethostname()
    try:
        # Only this container's nodes answer (glob on the node name), and the first
        # answer ends the wait.
        replies = app.control.ping(
            timeout=timeout, pattern=f"*@{hostname}*", matcher="glob", limit=1
        )
    except Exception:  # any broker failure means unhealthy
        return False
    finally:
        app.close()
    return any(own_node(node, hostname) for reply in replies or [] for node in reply)


USAGE = (
    "usage: rewind-container run -- CMD [ARG...]\n"
    "       rewind-container health http URL | health celery | health redis"
)


def main(argv: Sequence[str]) -> int:
    env = dict(os.environ)
    try:
        if len(argv) >= 2 and argv[0] == "run" and argv[1] == "--":
            run(argv[2:], env)
        if len(argv) == 3 and argv[:2] == ["health", "http"]:
            return 0 if http_healthy(argv[2]) else 1
        if list(argv) == ["health", "celery"]:
            return 0 if celery_healthy(env) else 1
        if list(argv) == ["health", "redis"]:
            return 0 if redis_healthy(env) else 1
    except ConfigError as exc:
        print(f"rewind-container: {exc}", file=sys.stderr)
        return EX_CONFIG
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
