"""Property-based fuzzing of the whole API from its own OpenAPI description: whatever a
client sends, the API never answers 500 and every answer matches the documented schema.

The API runs as a real server against the session's MongoDB and Redis, with an admin
token, so authorised code paths are exercised, not only 401s.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import schemathesis
import uvicorn
from devstack.processes import free_port, wait_until
from hypothesis import HealthCheck, given, settings
from pymongo import MongoClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rewind_api.app import create_app
from rewind_common.storage.mongo import Mongo
from rewind_common.storage.tokens import Role, TokenRepository
from tests.integration.api.conftest import make_settings


@pytest.fixture(scope="module")
def fuzzed_api(mongo_url: str, redis_url: str) -> Iterator[tuple[str, str]]:
    """A real API server and an admin token for it."""
    database = f"rewind_fuzz_{uuid.uuid4().hex[:10]}"
    api_settings = make_settings(mongo_url, database, redis_url, job_rate_limit_per_minute=0)

    async def admin_token() -> str:
        mongo = Mongo(mongo_url, database)
        try:
            secret, _ = await TokenRepository(mongo).create("fuzzer", Role.ADMIN)
            return secret
        finally:
            await mongo.close()

    token = asyncio.run(admin_token())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(api_settings), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=30, what="API server")
    try:
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.should_exit = True
        thread.join(15)
        client: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
        client.drop_database(database)
        client.close()
        queues = redis.Redis.from_url(redis_url)
        queues.flushdb()
        queues.close()


@pytest.fixture(scope="module")
def api_schema(fuzzed_api: tuple[str, str]) -> Any:
    url, token = fuzzed_api
    return schemathesis.openapi.from_url(
        f"{url}/openapi.json", headers={"Authorization": f"Bearer {token}"}
    )


def test_no_server_errors_and_every_answer_matches_the_schema(
    api_schema: Any, fuzzed_api: tuple[str, str]
) -> None:
    # One Hypothesis run per operation; failures are collected so one report names every
    # operation that misbehaves.
    url, token = fuzzed_api
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def exercise(case: Any) -> None:
            case.call_and_validate(
                base_url=url,
                headers={"Authorization": f"Bearer {token}"},
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
            )

        try:
            exercise()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 15
    assert not failures, "\n\n".join(failures)
