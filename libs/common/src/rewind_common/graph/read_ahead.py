"""Requesting a collection's next page while the current one is parsed and handled.

A collection's pages (a delta round's above all) can only be read one after another:
each names the next. A reader that parses and stores a page before asking for the next
leaves Graph idle meanwhile, and Graph leaves the reader idle while it builds the next:
the two take turns. Sending the next request as soon as a page's bytes are in overlaps
them; the request must then really be on the wire before the page's work begins, since
an event loop busy parsing and hashing does not get back to a request still on its way
through the middleware (the tenant's budget, the credential, the connection pool).

``send_ahead`` starts a request and returns once httpcore reports it sent (or it has
ended), told by ``ReportSentMiddleware`` through httpcore's ``trace`` extension.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

import httpx
import orjson
from kiota_http.middleware.middleware import BaseMiddleware

from rewind_common.aio import stop_task

T = TypeVar("T")

#: Resolved once the request sent ahead is on the wire; set only in its task's context.
_sent: ContextVar[asyncio.Future[None] | None] = ContextVar("graph_request_sent", default=None)

#: ``"@odata.nextLink":"..."`` as JSON writes it: a string holds no unescaped quote, so
#: only a member named exactly so matches (an expanded relationship's own link is
#: ``members@odata.nextLink``, with no quote before the ``@``).
_NEXT_LINK = re.compile(rb'"@odata\.nextLink"\s*:\s*("(?:[^"\\]|\\.)*")')


def next_link_in(content: bytes) -> str | None:
    """The nextLink of an answer not parsed yet, or None. A guess, which the parsed page
    confirms: a nested object could, in principle, hold a member of that name."""
    found = _NEXT_LINK.search(content)
    if found is None:
        return None
    try:
        link = orjson.loads(found.group(1))
    except orjson.JSONDecodeError:
        return None
    return link if isinstance(link, str) and link else None


async def send_ahead(request: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """``request`` running as a task, returned once it has been sent or has ended."""
    sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    token = _sent.set(sent)
    try:
        task = asyncio.create_task(request)
    finally:
        _sent.reset(token)
    await asyncio.wait((task, sent), return_when=asyncio.FIRST_COMPLETED)
    sent.cancel()
    return task


async def abandon(task: asyncio.Task[Any]) -> None:
    """Cancel a request sent ahead that will not be used, and wait for it to end."""
    await stop_task(task)


class ReportSentMiddleware(BaseMiddleware):
    """Next to the network: tells ``send_ahead`` when its request has been written."""

    async def send(
        self, request: httpx.Request, transport: httpx.AsyncBaseTransport
    ) -> httpx.Response:
        sent = _sent.get()
        if sent is not None and not sent.done():
            request.extensions = {**request.extensions, "trace": _tracer(sent)}
        return await super().send(request, transport)


def _tracer(sent: asyncio.Future[None]) -> Any:
    async def trace(event: str, info: Mapping[str, Any]) -> None:
        # the whole request is written once httpcore starts waiting for the answer
        if event.endswith("receive_response_headers.started") and not sent.done():
            sent.set_result(None)

    return trace
