"""The ASGI application: ``/v1.0`` is Graph, ``/_emulator`` the test-only endpoints.

In-process use (tests):

```python
app = create_app()
client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://graph.local")
```

``app.emulator`` is the :class:`~graph_emulator.emulator.Emulator` behind it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from graph_emulator import control, errors
from graph_emulator.defaults import DEFAULT_TENANT_ID
from graph_emulator.emulator import Emulator
from graph_emulator.http import Request, Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

VERSION = "/v1.0"


class EmulatorApp:
    """An ASGI 3 application serving one emulated tenant."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host")
        if not host:
            server = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        origin = f"{scope.get('scheme', 'http')}://{host}"
        # httpx keeps a base URL's trailing slash, so SDK clients send ``/v1.0//users``.
        path: str = re.sub("/{2,}", "/", scope["path"])
        method: str = scope["method"].upper()
        request = Request(
            method=method,
            path=path[len(VERSION) :] or "/",
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=b"".join(chunks),
            origin=origin,
        )
        if path == "/_emulator" or path.startswith("/_emulator/"):
            response = await control.handle(self.emulator, method, path, request)
        elif path == VERSION or path.startswith(VERSION + "/"):
            response = await self.emulator.handle(request)
        else:
            segment = path.strip("/").split("/", 1)[0]
            response = self.emulator.error_response(
                errors.GraphError(400, "BadRequest", f"Invalid version: {segment or '/'}")
            )
            response.headers["Content-Type"] = "application/json"
        await _send(send, response)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _send(send: Send, response: Response) -> None:
    body = response.encoded()
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    if response.status != 204:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": body if response.status != 204 else b""})


def create_app(tenant_id: str | None = None, *, seed_demo: bool = False) -> EmulatorApp:
    """A new emulator with an empty tenant (or the demo tenant when ``seed_demo``)."""
    emulator = Emulator(tenant_id or DEFAULT_TENANT_ID)
    if seed_demo:
        from graph_emulator.generator import DEMO, generate

        generate(emulator, DEMO)
    return EmulatorApp(emulator)
