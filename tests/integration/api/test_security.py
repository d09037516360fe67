"""Secrets stay secret: API tokens never reach the logs, credentials never reach an
answer, even when a dependency fails with a connection string in hand."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest
from fastapi import FastAPI

from rewind_common.logging import JsonFormatter, redact
from rewind_common.settings import Settings
from rewind_common.storage.tokens import Role
from tests.integration.api.conftest import asgi_client, make_settings, running_app
from tests.integration.api.support import TENANT, bearer, store_snapshot


async def test_tokens_never_appear_in_the_logs(
    app: FastAPI,
    client: httpx.AsyncClient,
    tokens: dict[Role, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = tokens[Role.OPERATOR]
    await client.get(f"/v1/tenants/{TENANT}/jobs", headers=bearer(token))
    await client.get("/v1/tenants", headers=bearer(token + "x"))  # refused: logged as such
    await client.post(
        f"/v1/tenants/{TENANT}/snapshots", json={"mode": "bogus"}, headers=bearer(token)
    )
    assert caplog.records, "the requests above must have logged something"
    for record in caplog.records:
        assert token not in record.getMessage()
        assert token not in str(record.__dict__)


def test_redaction_masks_every_kind_of_credential() -> None:
    text = (
        "Authorization: Bearer eyJhbGciOi.abc.def token=rwd_AbCdEfGhIjKlMnOpQrSt "
        "client_secret=s3cr3t mongodb://rewind:p4ssw0rd@mongo:27017/rewind "
        'password: "hunter2"'
    )
    masked = redact(text)
    for secret in ("eyJhbGciOi", "rwd_AbCdEfGhIjKlMnOpQrSt", "s3cr3t", "p4ssw0rd", "hunter2"):
        assert secret not in masked
    assert "mongo:27017" in masked


def test_json_logs_mask_credentials_in_extra_fields() -> None:
    record = logging.makeLogRecord(
        {
            "msg": "connecting",
            "url": "mongodb://rewind:p4ssw0rd@mongo:27017/rewind",
            "request": {"headers": {"Authorization": "Bearer eyJhbGciOi.abc.def"}},
        }
    )
    line = JsonFormatter().format(record)
    assert "p4ssw0rd" not in line
    assert "eyJhbGciOi" not in line
    assert json.loads(line)["url"] == "mongodb://rewind:[redacted]@mongo:27017/rewind"


async def test_a_failing_database_never_reveals_its_credentials(
    mongo_database_name: str, redis_db_url: str
) -> None:
    settings = make_settings(
        "mongodb://rewind:pa55word@127.0.0.1:1/?serverSelectionTimeoutMS=300",
        mongo_database_name,
        redis_db_url,
    )
    async with running_app(settings) as application, asgi_client(application) as http:
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert "pa55word" not in response.text
        assert response.json()["error"]["code"] == "serviceUnavailable"


async def test_tenant_credentials_are_never_returned(
    settings: Settings, client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    for path in ("/v1/tenants", f"/v1/tenants/{TENANT}"):
        response = await client.get(path, headers=bearer(tokens[Role.ADMIN]))
        assert response.status_code == 200
        assert "graph-secret-value" not in response.text
    assert "graph-secret-value" not in repr(settings)


async def test_every_job_creating_route_shares_the_tenants_rate_limit(
    mongo_url: str, mongo_database_name: str, redis_db_url: str
) -> None:
    settings = make_settings(
        mongo_url, mongo_database_name, redis_db_url, job_rate_limit_per_minute=4
    )
    async with running_app(settings) as app, asgi_client(app) as client:
        secret, _ = await app.state.rewind.tokens.create("ops", Role.ADMIN)
        await store_snapshot(app.state.rewind.snapshots, "s1")
        base = f"/v1/tenants/{TENANT}"
        posts: list[tuple[str, dict[str, object] | None]] = [
            (f"{base}/snapshots", None),
            (f"{base}/snapshots/s1/verify", None),
            (f"{base}/difference-reports", {"snapshotId": "s1"}),
            (f"{base}/recoveries", {"snapshotId": "s1", "dryRun": True}),
        ]
        accepted = [
            (await client.post(path, json=body, headers=bearer(secret))).status_code
            for path, body in posts
        ]
        assert accepted == [202, 202, 202, 202]
        for path, body in posts:
            limited = await client.post(path, json=body, headers=bearer(secret))
            assert limited.status_code == 429, path
            assert limited.json()["error"]["code"] == "rateLimited"


async def test_a_scope_naming_too_many_ids_is_refused(
    mongo_url: str, mongo_database_name: str, redis_db_url: str
) -> None:
    settings = make_settings(mongo_url, mongo_database_name, redis_db_url, max_scope_ids=10)
    async with running_app(settings) as app, asgi_client(app) as client:
        secret, _ = await app.state.rewind.tokens.create("ops", Role.OPERATOR)
        await store_snapshot(app.state.rewind.snapshots, "s1")
        ids = [str(uuid.UUID(int=i + 1)) for i in range(11)]
        scope = {"objects": [{"type": "user", "ids": ids}]}
        for route in ("difference-reports", "recoveries"):
            response = await client.post(
                f"/v1/tenants/{TENANT}/{route}",
                json={"snapshotId": "s1", "scope": scope},
                headers=bearer(secret),
            )
            assert response.status_code == 400, route
            assert response.json()["error"]["code"] == "invalidScope"
            assert "10" in response.json()["error"]["message"]
        jobs = await client.get(f"/v1/tenants/{TENANT}/jobs", headers=bearer(secret))
        assert jobs.json()["items"] == []
