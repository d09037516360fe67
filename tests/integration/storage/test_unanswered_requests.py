"""A MongoDB server that stops answering: the request fails once the socket timeout is
up, as ``DependencyUnavailable`` (a job's step is then tried again), instead of waiting
forever and leaving the job in progress."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from rewind_common.errors import DependencyUnavailable
from rewind_common.settings import Settings
from rewind_common.storage.mongo import Mongo


class SilencingProxy:
    """Forwards TCP both ways until ``silence()``; then drops every answer."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._silent = False
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def silence(self) -> None:
        self._silent = True

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in self._connections:
            connection.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)

        async def pipe(
            source: asyncio.StreamReader, sink: asyncio.StreamWriter, answers: bool
        ) -> None:
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                while data := await source.read(65536):
                    if answers and self._silent:
                        continue
                    sink.write(data)
                    await sink.drain()

        try:
            await asyncio.gather(
                pipe(reader, upstream_writer, answers=False),
                pipe(upstream_reader, writer, answers=True),
            )
        except asyncio.CancelledError:
            pass
        finally:
            upstream_writer.close()
            writer.close()


@pytest.fixture
async def proxied(mongo_url: str) -> AsyncIterator[tuple[SilencingProxy, int]]:
    where = urlsplit(mongo_url)
    if where.scheme != "mongodb" or where.hostname is None or "," in where.netloc:
        pytest.skip("needs a single MongoDB server to stand in front of")
    proxy = SilencingProxy(where.hostname, where.port or 27017)
    port = await proxy.start()
    try:
        yield proxy, port
    finally:
        await proxy.close()


async def test_a_request_never_answered_fails_once_the_socket_timeout_is_up(
    proxied: tuple[SilencingProxy, int],
) -> None:
    proxy, port = proxied
    settings = Settings(
        mongo_url=f"mongodb://127.0.0.1:{port}/?directConnection=true",
        mongo_database="silence",
        mongo_socket_timeout_seconds=0.3,
    )
    mongo = Mongo.of(settings)
    try:
        await mongo.ping()
        proxy.silence()
        started = time.monotonic()
        with pytest.raises(DependencyUnavailable):
            # the guard only keeps a missing timeout from hanging the test run
            await asyncio.wait_for(mongo.ping(), 30)
        assert time.monotonic() - started < 10
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(mongo.close(), 5)
