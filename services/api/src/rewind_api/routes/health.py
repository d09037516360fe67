"""Liveness, readiness and metrics: no token, for orchestrators and Prometheus."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from redis.exceptions import RedisError

from rewind_api.deps import State
from rewind_api.metrics import render_latest
from rewind_api.schemas import Health, Readiness
from rewind_api.state import DEPENDENCY_TIMEOUT_SECONDS, AppState
from rewind_common.errors import DependencyUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process runs")
async def healthz() -> Health:
    return Health()


async def _mongo_down(state: AppState) -> str | None:
    try:
        await asyncio.wait_for(state.mongo.ping(), DEPENDENCY_TIMEOUT_SECONDS)
        await state.ensure_indexes()
    except (DependencyUnavailable, TimeoutError) as exc:
        return str(exc) or "no answer in time"
    return None


async def _redis_down(state: AppState) -> str | None:
    try:
        await asyncio.wait_for(state.redis.ping(), DEPENDENCY_TIMEOUT_SECONDS)
    except (RedisError, OSError, TimeoutError) as exc:
        return str(exc) or "no answer in time"
    return None


@router.get(
    "/readyz",
    summary="MongoDB and Redis answer",
    responses={503: {"description": "A dependency is down; the error names it"}},
)
async def readyz(state: State) -> Readiness:
    mongo, redis = await asyncio.gather(_mongo_down(state), _redis_down(state))
    if mongo is None and redis is None:
        return Readiness()
    down = [name for name, problem in (("MongoDB", mongo), ("Redis", redis)) if problem]
    details = {
        "mongodb": "down" if mongo else "up",
        "redis": "down" if redis else "up",
    }
    raise DependencyUnavailable(f"{' and '.join(down)} unavailable", details=details)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    body, content_type = render_latest()
    return Response(content=body, media_type=content_type)
