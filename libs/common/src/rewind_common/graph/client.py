"""The one way Rewind talks to Microsoft Graph.

``GraphClient`` sends requests through msgraph-sdk's request adapter, so the default
msgraph-core middleware (retries honouring Retry-After, redirects, telemetry) and the
azure-identity credential apply to every call; it returns raw JSON so a backup keeps
every property Graph returned, including properties the SDK does not model. The typed
``GraphServiceClient`` is available as ``sdk`` on the same adapter.

The same code talks to the real Graph or to the emulator: only the tenant connection's
base URL and credential differ (tests may also pass an in-process ``transport``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import orjson
import redis.asyncio as aioredis
from azure.core.credentials_async import AsyncTokenCredential
from kiota_abstractions.method import Method
from kiota_abstractions.native_response_handler import NativeResponseHandler
from kiota_abstractions.request_information import RequestInformation
from kiota_http.kiota_client_factory import KiotaClientFactory
from kiota_http.middleware.options.response_handler_option import ResponseHandlerOption
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from rewind_common.errors import DependencyUnavailable, GraphError
from rewind_common.graph.budget import GraphBudget
from rewind_common.graph.costs import request_cost
from rewind_common.graph.credentials import authentication_provider
from rewind_common.graph.errors import graph_error, retry_after_seconds, unavailable
from rewind_common.graph.middleware import RESERVED_WRITES_HEADER, BudgetMiddleware, Observer
from rewind_common.graph.read_ahead import ReportSentMiddleware, abandon, next_link_in, send_ahead
from rewind_common.settings import Settings, TenantConnection

log = logging.getLogger(__name__)

BATCH_LIMIT = 20
#: Answers worth sending the same request again for, after Retry-After or a pause.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
#: After msgraph-core's own retries give up on a 429 or 503, keep trying this long.
THROTTLE_PATIENCE_SECONDS = 300.0


@dataclass(frozen=True)
class GraphResponse:
    status: int
    headers: Mapping[str, str]
    body: Any


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_link: str | None
    delta_link: str | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class BatchRequest:
    """One request of a $batch. ``url`` is relative to the version root (``/users/x``):
    Graph rejects absolute and ``/v1.0``-prefixed URLs inside a batch."""

    id: str
    method: str
    url: str
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[str] = ()

    def to_json(self) -> dict[str, Any]:
        if "://" in self.url or self.url.startswith(("/v1.0", "/beta")):
            raise ValueError(f"batch request URLs must be relative to the version: {self.url}")
        item: dict[str, Any] = {"id": self.id, "method": self.method, "url": self.url}
        headers = dict(self.headers)
        if self.body is not None:
            item["body"] = self.body
            headers.setdefault("Content-Type", "application/json")
        if headers:
            item["headers"] = headers
        if self.depends_on:
            item["dependsOn"] = list(self.depends_on)
        return item


@dataclass(frozen=True)
class BatchResult:
    id: str
    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every Graph client of the process: loading the trusted
    certificates takes about 50 ms, which every job would otherwise pay for its own
    client before its first request."""
    return httpx.create_ssl_context()


def _decode(content: bytes) -> Any:
    if not content:
        return None
    try:
        # orjson: a snapshot parses every object of the tenant, and json spends about a
        # fifth of a worker's time doing it
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(content)  # what orjson refuses: integers beyond 64 bits, NaN
    except ValueError:
        return content.decode("utf-8", "replace")


@dataclass(frozen=True)
class _Unparsed:
    status: int
    headers: Mapping[str, str]
    content: bytes


def _unbind(response: httpx.Response) -> None:
    """Let the response go as soon as it is read. httpx binds a response's stream back
    to the response (``BoundAsyncStream``), a cycle only the garbage collector undoes:
    a worker collects young objects rarely, so read pages piled up until a full
    collection, more of them the larger the tenant. The body is read and the stream
    closed by now; an empty stream stands in for it."""
    response.stream = httpx.ByteStream(b"")


class GraphClient:
    def __init__(
        self,
        tenant: TenantConnection,
        *,
        timeout_seconds: float = 60.0,
        budget: GraphBudget | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        observe: Observer | None = None,
        credential: AsyncTokenCredential | None = None,
    ) -> None:
        """``credential`` replaces the one the tenant's settings name; the caller keeps
        it and closes it."""
        self.tenant = tenant
        self.base_url = tenant.graph_base_url.rstrip("/")
        self._base_path = urlsplit(self.base_url).path
        self._budget = budget
        middleware = KiotaClientFactory.get_default_middleware(None)
        middleware.append(BudgetMiddleware(budget, self._base_path, observe))
        middleware.append(ReportSentMiddleware())
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds, connect=10.0),
            verify=_tls_context(),
            transport=transport,
            follow_redirects=False,
        )
        self._http = GraphClientFactory.create_with_custom_middleware(middleware, client=http)
        provider, self._credential = authentication_provider(tenant, credential)
        self.adapter = GraphRequestAdapter(provider, client=self._http)
        self.adapter.base_url = self.base_url
        self.sdk = GraphServiceClient(request_adapter=self.adapter)

    async def close(self) -> None:
        await self._http.aclose()
        if self._credential is not None:
            await self._credential.close()

    def url(self, path_or_url: str, params: Mapping[str, str] | None = None) -> str:
        url = path_or_url if "://" in path_or_url else f"{self.base_url}{path_or_url}"
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, safe="$(),'=")
        return url

    def relative(self, url: str) -> str:
        """``url`` (a path or an absolute URL under the version root, such as a nextLink)
        relative to the version root, as a ``$batch`` request names it."""
        if "://" not in url:
            return url
        if url.startswith(self.base_url + "/"):
            return url[len(self.base_url) :]
        parts = urlsplit(url)
        if not parts.path.startswith(self._base_path + "/"):
            raise ValueError(f"{url} is not under {self.base_url}")
        path = parts.path[len(self._base_path) :]
        return f"{path}?{parts.query}" if parts.query else path

    async def send(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> GraphResponse:
        """Send one request; answers are returned whatever their status."""
        answer = await self._send_unparsed(method, path_or_url, params, body, headers)
        return GraphResponse(answer.status, answer.headers, _decode(answer.content))

    async def _send_unparsed(
        self,
        method: str,
        path_or_url: str,
        params: Mapping[str, str] | None,
        body: Any,
        headers: Mapping[str, str] | None,
    ) -> _Unparsed:
        url = self.url(path_or_url, params)
        info = RequestInformation()
        info.http_method = Method(method.upper())
        info.url = url
        info.headers.try_add("Accept", "application/json")
        for name, value in (headers or {}).items():
            info.headers.add(name, value)
        if body is not None:
            info.headers.try_add("Content-Type", "application/json")
            info.content = json.dumps(body).encode("utf-8")
        info.add_request_options([ResponseHandlerOption(NativeResponseHandler())])
        try:
            response: httpx.Response = await self.adapter.send_primitive_async(info, "bytes", {})
        except httpx.TransportError as exc:
            raise unavailable(method, url, exc) from exc
        content = response.content
        _unbind(response)
        return _Unparsed(response.status_code, response.headers, content)

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one request and return its JSON body; raise on an error answer.

        429 and 503/504 that outlast the middleware's retries are retried here, honouring
        Retry-After, for up to ``THROTTLE_PATIENCE_SECONDS``; after that, or when Graph
        cannot be reached, ``DependencyUnavailable`` lets the job resume later. Other
        errors raise ``GraphError`` with Graph's code.
        """
        return _decode(await self._content(method, path_or_url, params, body, headers))

    async def _content(
        self,
        method: str,
        path_or_url: str,
        params: Mapping[str, str] | None,
        body: Any,
        headers: Mapping[str, str] | None,
    ) -> bytes:
        """``request``'s answer before it is parsed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + THROTTLE_PATIENCE_SECONDS
        while True:
            answer = await self._send_unparsed(method, path_or_url, params, body, headers)
            if answer.status < 400:
                return answer.content
            error = graph_error(
                answer.status,
                _decode(answer.content),
                answer.headers,
                method=method,
                url=path_or_url,
            )
            if answer.status not in TRANSIENT_STATUSES:
                raise error
            wait = retry_after_seconds(answer.headers) or 5.0
            if loop.time() + wait > deadline:
                raise DependencyUnavailable(
                    f"Graph keeps answering {answer.status} ({error.graph_code}) "
                    f"to {method} {path_or_url}"
                ) from error
            log.info("Graph answered %s; waiting %.1fs", answer.status, wait)
            await asyncio.sleep(wait)

    async def get(self, path_or_url: str, params: Mapping[str, str] | None = None) -> Any:
        return await self.request("GET", path_or_url, params=params)

    async def pages(
        self,
        path_or_url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[Page]:
        """Every page of a collection (or a delta round), following ``@odata.nextLink``.

        The last page of a delta round carries ``delta_link``.

        Each page's nextLink is requested as soon as the page has arrived, before the
        page is parsed and handed over: a round's pages can only be read one after
        another, and Graph then works on the next while this process works on the
        current one. The link is taken from the answer's bytes and checked against the
        parsed page; a read that stops early cancels the request ahead."""
        url: str | None = path_or_url
        first = True
        ahead: tuple[str, asyncio.Task[bytes]] | None = None
        try:
            while url is not None:
                if ahead is not None and ahead[0] == url:
                    content = await ahead[1]
                else:
                    content = await self._content(
                        "GET", url, params if first else None, None, headers
                    )
                ahead = None
                first = False
                guessed = next_link_in(content)
                if guessed is not None:
                    request = self._content("GET", guessed, None, None, headers)
                    ahead = (guessed, await send_ahead(request))
                raw = _decode(content)
                if not isinstance(raw, dict):
                    raise GraphError(
                        f"Graph answered a non-object to GET {url}",
                        status=200,
                        graph_code="badBody",
                    )
                items = raw.get("value")
                if items is None and "id" in raw:
                    items = [raw]  # a singleton
                next_link = raw.get("@odata.nextLink")
                if ahead is not None and ahead[0] != next_link:
                    await abandon(ahead[1])
                    ahead = None
                yield Page(list(items or []), next_link, raw.get("@odata.deltaLink"), raw)
                url = next_link
        finally:
            if ahead is not None:
                await abandon(ahead[1])

    async def batch(self, requests: Sequence[BatchRequest]) -> list[BatchResult]:
        """Send requests in $batch calls of at most 20, retrying any that Graph throttled
        or could not serve (429, 502/503/504) inside a successful batch: the middleware
        only sees the batch's own 200. A 429 inside pauses the tenant's shared budget, as
        a 429 to a plain request does."""
        results: dict[str, BatchResult] = {}
        pending = list(requests)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + THROTTLE_PATIENCE_SECONDS
        while pending:
            again: list[BatchRequest] = []
            wait = 0.0
            queue = pending
            while queue:
                chunk, reserved = await self._fitting(queue[:BATCH_LIMIT])
                queue = queue[len(chunk) :]
                answer = await self.request(
                    "POST",
                    "/$batch",
                    body={"requests": [r.to_json() for r in chunk]},
                    headers={RESERVED_WRITES_HEADER: str(reserved)} if reserved else None,
                )
                answered = [
                    BatchResult(
                        id=str(item.get("id")),
                        status=int(item.get("status", 0)),
                        headers=item.get("headers") or {},
                        body=item.get("body"),
                    )
                    for item in (answer or {}).get("responses", [])
                ]
                throttled = 0.0
                for result in answered:
                    if result.status in TRANSIENT_STATUSES:
                        wait = max(wait, retry_after_seconds(result.headers) or 5.0)
                    if result.status == 429:
                        throttled = max(throttled, retry_after_seconds(result.headers) or 5.0)
                if throttled and self._budget is not None:
                    # Graph throttles the tenant, not this batch: every process holds back.
                    await self._budget.pause(throttled)
                retried = _to_send_again(chunk, answered)
                again.extend(retried)
                sent_again = {r.id for r in retried}
                results.update((r.id, r) for r in answered if r.id not in sent_again)
            if again and loop.time() + wait > deadline:
                raise DependencyUnavailable(f"Graph kept refusing {len(again)} batched requests")
            if again:
                await asyncio.sleep(wait)
            pending = again
        return [results[r.id] for r in requests if r.id in results]

    async def _fitting(self, chunk: Sequence[BatchRequest]) -> tuple[Sequence[BatchRequest], int]:
        """The leading part of ``chunk`` the write budget lets out now (at least one
        write, waiting for it), and the writes taken for it. Requests chained with
        ``dependsOn`` go out together, whatever they wait."""
        writes = [_is_write(r) for r in chunk]
        if self._budget is None or not any(writes) or any(r.depends_on for r in chunk):
            return chunk, 0
        taken = await self._budget.take_writes(sum(writes))
        if taken == sum(writes):
            return chunk, taken
        seen = 0
        for index, write in enumerate(writes):
            seen += write
            if seen > taken:
                return chunk[:index], taken
        return chunk, taken


def _to_send_again(
    chunk: Sequence[BatchRequest], answered: Sequence[BatchResult]
) -> list[BatchRequest]:
    """The requests of ``chunk`` to send again, in their order: those Graph throttled or
    could not serve, and those it answered 424 because a request they depend on was one
    of them. Their ``dependsOn`` keeps only requests sent again with them: Graph refuses
    a whole batch whose ``dependsOn`` names a request that is not in it."""
    status = {r.id: r.status for r in answered}
    again: set[str] = set()
    for request in chunk:
        if request.id not in status:
            continue
        if status[request.id] in TRANSIENT_STATUSES or (
            status[request.id] == 424 and any(d in again for d in request.depends_on)
        ):
            again.add(request.id)
    return [
        replace(r, depends_on=tuple(d for d in r.depends_on if d in again))
        for r in chunk
        if r.id in again
    ]


def _is_write(request: BatchRequest) -> bool:
    return request_cost(request.method, urlsplit(request.url).path, {}).writes > 0


@contextlib.asynccontextmanager
async def open_graph_client(
    tenant: TenantConnection,
    settings: Settings,
    *,
    redis: aioredis.Redis | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    observe: Observer | None = None,
    credential: AsyncTokenCredential | None = None,
) -> AsyncIterator[GraphClient]:
    """A client for one tenant, with the shared budget when Redis is given, and with
    ``credential`` instead of the settings' own when one is given."""
    budget = None
    if redis is not None:
        budget = GraphBudget(
            redis,
            tenant.tenant_id,
            read_units_per_10s=settings.graph_read_units_per_10s,
            writes_per_150s=settings.graph_writes_per_150s,
        )
    client = GraphClient(
        tenant,
        timeout_seconds=settings.graph_timeout_seconds,
        budget=budget,
        transport=transport,
        observe=observe,
        credential=credential,
    )
    try:
        yield client
    finally:
        await client.close()
