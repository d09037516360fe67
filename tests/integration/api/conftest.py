"""An API app per test, in-process, against the session's Redis and MongoDB servers."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import redis
import uvicorn
from devstack.processes import free_port, wait_until
from fastapi import FastAPI
from pydantic import SecretStr
from pymongo import MongoClient

from rewind_api.app import create_app
from rewind_api.state import AppState
from rewind_common.settings import CredentialKind, Settings, TenantConnection
from rewind_common.storage.tokens import Role
from tests.integration.api.support import OTHER_TENANT, TENANT


def make_settings(mongo_url: str, database: str, redis_url: str, **overrides: object) -> Settings:
    tenants = (
        TenantConnection(
            tenant_id=TENANT,
            display_name="Contoso",
            graph_base_url="http://127.0.0.1:8080/v1.0",
            credential=CredentialKind.STATIC_TOKEN,
            static_token=SecretStr("graph-secret-value"),
        ),
        TenantConnection(
            tenant_id=OTHER_TENANT, display_name="Fabrikam", credential=CredentialKind.NONE
        ),
    )
    values: dict[str, object] = {
        "mongo_url": mongo_url,
        "mongo_database": database,
        "redis_url": redis_url,
        "tenants": tenants,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def settings(mongo_url: str, mongo_database_name: str, redis_db_url: str) -> Settings:
    # Tests count the tasks in queues: start from an empty Redis whatever ran before.
    client = redis.Redis.from_url(redis_db_url)
    client.flushdb()
    client.close()
    return make_settings(mongo_url, mongo_database_name, redis_db_url)


@contextlib.asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """An app with its lifespan entered; its database is dropped afterwards."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        try:
            yield application
        finally:
            state: AppState = application.state.rewind
            with contextlib.suppress(Exception):
                await state.mongo.client.drop_database(settings.mongo_database)


def asgi_client(app: FastAPI, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://api")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
def state(app: FastAPI) -> AppState:
    value = app.state.rewind
    assert isinstance(value, AppState)
    return value


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as http:
        yield http


@pytest.fixture
def api_url(settings: Settings) -> Iterator[str]:
    """A real API server (uvicorn in a thread) on a free port; its URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=30, what="API server")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        client: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url.get_secret_value())
        client.drop_database(settings.mongo_database)
        client.close()


@pytest.fixture
async def tokens(state: AppState) -> dict[Role, str]:
    """One token per role, named after it."""
    created = {}
    for role in Role:
        secret, _ = await state.tokens.create(f"{role.value}-token", role)
        created[role] = secret
    return created
