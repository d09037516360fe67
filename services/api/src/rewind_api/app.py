"""The FastAPI application: ``create_app(settings)`` builds one, connected to the MongoDB,
Redis and Celery broker that ``settings`` name (tests pass settings for their servers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from rewind_api.errors import install_error_handlers
from rewind_api.limits import BodyLimitMiddleware
from rewind_api.metrics import MetricsMiddleware, publish_schedules
from rewind_api.openapi import document_router, install_openapi
from rewind_api.routes import API_ROUTERS, OPEN_ROUTERS
from rewind_api.state import open_state
from rewind_common.settings import Settings, get_settings

DESCRIPTION = """\
Backups, difference reports and recovery for Microsoft Entra ID.

Every `/v1` route needs a bearer token (`Authorization: Bearer rwd_...`). Roles:
`reader` reads everything; `operator` also starts and cancels jobs; `admin` also manages
tokens and legal holds. Errors are `{"error": {"code", "message"}}`. Lists are
`{"items", "next"}`: pass `next` back as `?cursor=`. POSTs that start jobs answer 202
with the job and a `Location` header, and accept an `Idempotency-Key`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_state(settings) as state:
            app.state.rewind = state
            publish_schedules(settings)
            yield

    public_docs = settings.api_public_docs
    app = FastAPI(
        title="Rewind API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json" if public_docs else None,
        docs_url="/docs" if public_docs else None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_openapi(app)
    if not public_docs:
        app.include_router(document_router)
    # Routers carry their full path (``/v1/...``): route templates in metrics labels
    # are then the paths clients see.
    for router in (*OPEN_ROUTERS, *API_ROUTERS):
        app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(MetricsMiddleware)
    return app
