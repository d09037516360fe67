"""One router per resource. Difference reports and recoveries get their own modules;
adding one is adding it to ``API_ROUTERS``."""

from __future__ import annotations

from fastapi import APIRouter

from rewind_api.routes import health, jobs, recoveries, reports, snapshots, tenants, tokens

#: Routers of ``/v1`` routes, each needing a token.
API_ROUTERS: tuple[APIRouter, ...] = (
    tenants.router,
    snapshots.router,
    jobs.router,
    reports.router,
    recoveries.router,
    tokens.router,
)

#: Routers outside ``/v1`` that need no token.
OPEN_ROUTERS: tuple[APIRouter, ...] = (health.router,)
