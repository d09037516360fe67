"""A kiota middleware placed last in msgraph-core's pipeline, next to the network: every
physical attempt (retries included) takes its cost from the tenant's shared budget, and
every 429 pauses the tenant for all processes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson
from kiota_http.middleware.middleware import BaseMiddleware

from rewind_common.graph.budget import GraphBudget
from rewind_common.graph.costs import RequestCost, request_cost
from rewind_common.graph.errors import retry_after_seconds

#: Called after each attempt with (method, route, status, resource units).
Observer = Callable[[str, str, int, int], None]

DEFAULT_PAUSE_SECONDS = 5.0
#: Writes of a request already taken from the budget (``GraphBudget.take_writes``); the
#: header is removed before the request leaves the process.
RESERVED_WRITES_HEADER = "x-rewind-reserved-writes"


def _relative_path(url: httpx.URL, base_path: str) -> str:
    path = url.path
    return path[len(base_path) :] if path.startswith(base_path) else path


def batch_cost(body: bytes) -> RequestCost:
    """A $batch costs what its requests cost: Graph evaluates each one on its own."""
    try:
        requests = orjson.loads(body).get("requests", [])
    except (ValueError, AttributeError):
        return RequestCost(1, 0)
    units = writes = 0
    for item in requests:
        url = urlsplit(str(item.get("url", "")))
        cost = request_cost(str(item.get("method", "GET")), url.path, _query(url.query))
        units += cost.resource_units
        writes += cost.writes
    return RequestCost(max(units, 1), writes)


@functools.lru_cache(maxsize=256)
def _query(query: str) -> Mapping[str, str]:
    """A query string's parameters: the requests of a $batch mostly share one."""
    return MappingProxyType(dict(parse_qsl(query)))


class BudgetMiddleware(BaseMiddleware):
    def __init__(
        self, budget: GraphBudget | None, base_path: str, observe: Observer | None = None
    ) -> None:
        super().__init__()
        self._budget = budget
        self._base_path = base_path.rstrip("/")
        self._observe = observe

    async def send(
        self, request: httpx.Request, transport: httpx.AsyncBaseTransport
    ) -> httpx.Response:
        path = _relative_path(request.url, self._base_path)
        if path == "/$batch":
            cost = batch_cost(request.content)
        else:
            cost = request_cost(request.method, path, dict(request.url.params))
        reserved = request.headers.pop(RESERVED_WRITES_HEADER, None)
        if reserved is not None and reserved.isdigit():
            cost = RequestCost(cost.resource_units, max(cost.writes - int(reserved), 0))
        if self._budget is not None:
            await self._budget.acquire(cost)
        response = await super().send(request, transport)
        if response.status_code == 429 and self._budget is not None:
            await self._budget.pause(retry_after_seconds(response.headers) or DEFAULT_PAUSE_SECONDS)
        if self._observe is not None:
            self._observe(request.method, path, response.status_code, cost.resource_units)
        return response
