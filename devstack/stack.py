"""The whole Rewind stack as local processes: Redis, MongoDB, the Graph emulator, the API,
the status recorder, the workers and the scheduler.

``Stack`` is what ``make up`` runs and what the end-to-end and fault tests start; every
process is a ``ManagedProcess`` that a test may stop, kill or restart.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.processes import ManagedProcess, free_port, port_open
from devstack.servers import mongo_server, redis_server
from rewind_common.tasks import Queue

DEMO_TENANT_ID = "8b5b1d58-7f0e-4a9b-9a3c-2d4f6e8a1c01"
WORKER_SERVICES = ("snapshotter", "differ", "recoverer")
#: The queues of local workers that consume more than their program's default. A
#: deployment runs retention in a worker of its own, logged in as the one database user
#: allowed to remove snapshot data; the local MongoDB has no users, so the snapshotter
#: takes retention jobs too, and whatever starts a snapshotter (``make up``, the tests)
#: gets them run.
WORKER_QUEUES = {"snapshotter": (Queue.SNAPSHOTS, Queue.RETENTION)}
#: The demo tenant ``make up`` seeds: small enough to back up in a second, rich enough
#: for every kind of incident (POST /_emulator/generate).
DEMO_TENANT = {
    "users": 250,
    "groups": 40,
    "membersPerGroup": 12,
    "applications": 12,
    "servicePrincipals": 12,
    "conditionalAccessPolicies": 6,
    "namedLocations": 4,
    "seed": 7,
}
BREAK_GLASS_ACCOUNTS = (
    "breakglass1@contoso.onmicrosoft.com",
    "breakglass2@contoso.onmicrosoft.com",
)


def console_script(name: str) -> str:
    """A console script of this virtualenv."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"console script {name!r} is not installed; run `make install`")
    return found


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code < 500
    except httpx.HTTPError:
        return False


@dataclass
class StackConfig:
    root: Path
    tenant_id: str = DEMO_TENANT_ID
    redis_url: str | None = None
    mongo_url: str | None = None
    api_port: int | None = None
    emulator_port: int | None = None
    #: Extra REWIND_* settings for every Rewind process.
    settings: dict[str, str] = field(default_factory=dict)
    #: Short redelivery and step times make fault tests fast.
    visibility_timeout: int = 300
    step_seconds: float = 30.0
    worker_concurrency: int = 1


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.root = config.root
        self.processes: dict[str, ManagedProcess] = {}
        self.redis_url = config.redis_url or ""
        self.mongo_url = config.mongo_url or ""
        self.api_port = config.api_port or free_port()
        self.emulator_port = config.emulator_port or free_port()
        self.database = config.settings.get("REWIND_MONGO_DATABASE", "rewind")

    # -- addresses -----------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.emulator_port}"

    @property
    def graph_base_url(self) -> str:
        return f"{self.emulator_url}/v1.0"

    def tenants(self) -> list[dict[str, object]]:
        return [
            {
                "tenantId": self.config.tenant_id,
                "displayName": "Contoso (emulated)",
                "graphBaseUrl": self.graph_base_url,
                "credential": "staticToken",
                "staticToken": "emulator-token",
                # the emulator's generated tenants have two emergency access accounts
                "breakGlassAccounts": list(BREAK_GLASS_ACCOUNTS),
            }
        ]

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for Rewind processes."""
        env = {
            "REWIND_MONGO_URL": self.mongo_url,
            "REWIND_MONGO_DATABASE": self.database,
            "REWIND_REDIS_URL": self.redis_url,
            "REWIND_TENANTS": json.dumps(self.tenants()),
            "REWIND_API_HOST": "127.0.0.1",
            "REWIND_API_PORT": str(self.api_port),
            "REWIND_API_URL": self.api_url,
            # bound to the loopback address: the browsable docs may be open
            "REWIND_API_PUBLIC_DOCS": "true",
            "REWIND_CELERY_VISIBILITY_TIMEOUT_SECONDS": str(self.config.visibility_timeout),
            "REWIND_JOB_STEP_SECONDS": str(self.config.step_seconds),
            "REWIND_LOG_FORMAT": "text",
            "PYTHONUNBUFFERED": "1",
        }
        env.update(self.config.settings)
        env.update(extra or {})
        return env

    # -- servers -------------------------------------------------------------------

    def _add(self, process: ManagedProcess) -> ManagedProcess:
        self.processes[process.name] = process
        return process.start()

    def start_redis(self) -> ManagedProcess | None:
        if self.redis_url:
            return None
        port = free_port()
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        return self._add(redis_server(port, self.root / "redis"))

    def start_mongo(self) -> ManagedProcess | None:
        if self.mongo_url:
            return None
        port = free_port()
        self.mongo_url = f"mongodb://127.0.0.1:{port}"
        return self._add(mongo_server(port, self.root / "mongodb"))

    def start_emulator(self, extra_args: list[str] | None = None) -> ManagedProcess:
        argv = [
            console_script("graph-emulator"),
            "--host", "127.0.0.1",
            "--port", str(self.emulator_port),
            "--tenant-id", self.config.tenant_id,
            *(extra_args or []),
        ]  # fmt: skip
        port = self.emulator_port
        return self._add(
            ManagedProcess(
                "emulator",
                argv,
                log_path=self.root / "logs" / "emulator.log",
                ready=lambda: port_open(port),
            )
        )

    def start_api(self) -> ManagedProcess:
        url = f"{self.api_url}/healthz"
        return self._add(
            ManagedProcess(
                "api",
                [console_script("rewind-api")],
                log_path=self.root / "logs" / "api.log",
                env=self.env(),
                ready=lambda: _http_ok(url),
            )
        )

    def _celery_ready(self, name: str) -> bool:
        log = self.root / "logs" / f"{name}.log"
        try:
            return "ready." in log.read_text(errors="replace")
        except OSError:
            return False

    def start_recorder(self, extra_env: Mapping[str, str] | None = None) -> ManagedProcess:
        return self._add(
            ManagedProcess(
                "recorder",
                [console_script("rewind-recorder")],
                log_path=self.root / "logs" / "recorder.log",
                env=self.env(extra_env),
                ready=lambda: self._celery_ready("recorder"),
            )
        )

    def start_worker(
        self, service: str, extra_env: Mapping[str, str] | None = None
    ) -> ManagedProcess:
        name = f"rewind-{service}"
        log_path = self.root / "logs" / f"{service}.log"
        if log_path.exists():
            # readiness is read from the log: start each run on a fresh file
            log_path.rename(log_path.with_suffix(f".{os.getpid()}.{len(self.processes)}.old"))
        argv = [console_script(name), "--concurrency", str(self.config.worker_concurrency)]
        if service in WORKER_QUEUES:
            argv += ["--queues", ",".join(queue.value for queue in WORKER_QUEUES[service])]
        return self._add(
            ManagedProcess(
                service,
                argv,
                log_path=log_path,
                env=self.env(extra_env),
                ready=lambda: self._celery_ready(service),
            )
        )

    def start_scheduler(self) -> ManagedProcess:
        return self._add(
            ManagedProcess(
                "scheduler",
                [
                    console_script("rewind-scheduler"),
                    "--schedule",
                    str(self.root / "scheduler" / "beat"),
                ],
                log_path=self.root / "logs" / "scheduler.log",
                env=self.env(),
                ready=lambda: True,
            )
        )

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()
