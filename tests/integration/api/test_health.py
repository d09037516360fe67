"""Health, readiness, metrics, and the limits every request passes through."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from devstack.processes import ManagedProcess

from rewind_api.state import AppState
from rewind_common.jobs.model import JobStatus
from rewind_common.storage.tokens import Role
from tests.integration.api.conftest import asgi_client, make_settings, running_app
from tests.integration.api.support import OTHER_TENANT, TENANT, bearer


async def test_health_readiness_and_metrics_need_no_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "mongodb": "up", "redis": "up"}
    await client.get(f"/v1/tenants/{TENANT}/jobs/some-job")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'rewind_api_requests_total{method="GET",route="/readyz",status="200"}' in text
    # route templates, never concrete ids
    assert 'route="/v1/tenants/{tenant}/jobs/{job_id}",status="401"' in text
    assert "some-job" not in text
    assert "rewind_api_request_duration_seconds_bucket" in text


async def test_readiness_names_redis_when_it_is_down(
    mongo_url: str,
    mongo_database_name: str,
    restartable_redis: tuple[ManagedProcess, str],
) -> None:
    server, url = restartable_redis
    settings = make_settings(mongo_url, mongo_database_name, url)
    async with running_app(settings) as app, asgi_client(app) as client:
        server.stop()
        down = await client.get("/readyz")
        assert down.status_code == 503
        error = down.json()["error"]
        assert error["code"] == "serviceUnavailable"
        assert error["message"] == "Redis unavailable"
        assert error["details"] == {"mongodb": "up", "redis": "down"}
        assert (await client.get("/healthz")).status_code == 200
        server.start()
        assert (await client.get("/readyz")).status_code == 200


async def test_readiness_names_mongodb_when_it_is_down(
    redis_db_url: str, restartable_mongo: tuple[ManagedProcess, str]
) -> None:
    server, url = restartable_mongo
    settings = make_settings(url, "rewind_ready", redis_db_url)
    async with running_app(settings) as app, asgi_client(app) as client:
        server.stop()
        down = await client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["error"]["message"] == "MongoDB unavailable"
        assert down.json()["error"]["details"] == {"mongodb": "down", "redis": "up"}
        server.start()
        assert (await client.get("/readyz")).status_code == 200


async def test_a_job_whose_task_cannot_be_queued_fails_visibly(
    mongo_url: str, mongo_database_name: str, restartable_redis: tuple[ManagedProcess, str]
) -> None:
    server, url = restartable_redis
    settings = make_settings(mongo_url, mongo_database_name, url, job_rate_limit_per_minute=0)
    async with running_app(settings) as app:
        state: AppState = app.state.rewind
        secret, _ = await state.tokens.create("ops", Role.OPERATOR)
        async with asgi_client(app) as client:
            server.stop()
            headers = {**bearer(secret), "Idempotency-Key": "k1"}
            response = await client.post(f"/v1/tenants/{TENANT}/snapshots", headers=headers)
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "serviceUnavailable"
            jobs, _ = await state.jobs.page(TENANT)
            assert [job.status for job in jobs] == [JobStatus.FAILED]
            assert jobs[0].error is not None
            assert "could not be queued" in jobs[0].error.message
            # the key was released: the retry starts the work once Redis is back
            server.start()
            retry = await client.post(f"/v1/tenants/{TENANT}/snapshots", headers=headers)
            assert retry.status_code == 202
            assert retry.json()["id"] != jobs[0].id


async def test_new_jobs_are_rate_limited_per_tenant(
    mongo_url: str, mongo_database_name: str, redis_db_url: str
) -> None:
    settings = make_settings(
        mongo_url, mongo_database_name, redis_db_url, job_rate_limit_per_minute=2
    )
    async with running_app(settings) as app, asgi_client(app) as client:
        secret, _ = await app.state.rewind.tokens.create("ops", Role.OPERATOR)
        path = f"/v1/tenants/{TENANT}/snapshots"
        statuses = [(await client.post(path, headers=bearer(secret))).status_code for _ in range(3)]
        assert statuses == [202, 202, 429]
        limited = await client.post(path, headers=bearer(secret))
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.json()["error"]["code"] == "rateLimited"


async def test_oversized_bodies_are_refused(
    mongo_url: str, mongo_database_name: str, redis_db_url: str
) -> None:
    settings = make_settings(mongo_url, mongo_database_name, redis_db_url, max_request_bytes=1024)
    async with running_app(settings) as app, asgi_client(app) as client:
        secret, _ = await app.state.rewind.tokens.create("admin", Role.ADMIN)
        body = {"name": "x" * 2000, "role": "reader"}
        response = await client.post("/v1/tokens", json=body, headers=bearer(secret))
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "requestTooLarge"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b"x" * 600

        chunked = await client.post("/v1/tokens", content=chunks(), headers=bearer(secret))
        assert chunked.status_code == 413


async def test_unexpected_errors_are_500_without_internals(
    app: object, state: AppState, tokens: dict[Role, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("connection string mongodb://admin:hunter2@db")

    monkeypatch.setattr(state.jobs, "page", broken)
    async with asgi_client(app, raise_app_exceptions=False) as client:  # type: ignore[arg-type]
        response = await client.get(
            f"/v1/tenants/{TENANT}/jobs", headers=bearer(tokens[Role.READER])
        )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internalError"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


async def test_metrics_publish_each_tenants_snapshot_interval(
    mongo_url: str, mongo_database_name: str, redis_db_url: str
) -> None:
    """The snapshot-overdue alert compares the last success with twice this figure."""
    settings = make_settings(mongo_url, mongo_database_name, redis_db_url)
    daily = settings.tenants[1].model_copy(update={"snapshot_interval_minutes": 1440})
    settings = settings.model_copy(
        update={"tenants": (settings.tenants[0], daily), "snapshot_interval_minutes": 30}
    )
    async with running_app(settings) as app, asgi_client(app) as client:
        text = (await client.get("/metrics")).text
    assert f'rewind_snapshot_interval_seconds{{tenant="{TENANT}"}} 1800.0' in text
    assert f'rewind_snapshot_interval_seconds{{tenant="{OTHER_TENANT}"}} 86400.0' in text
