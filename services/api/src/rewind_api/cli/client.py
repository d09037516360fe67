"""A small synchronous client of the Rewind API, for the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


class ApiError(Exception):
    """The API answered with an error, or could not be reached (``status`` 0)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    @property
    def unreachable(self) -> bool:
        return self.status == 0


@dataclass(frozen=True)
class StreamEvent:
    event: str
    data: Any
    id: str | None = None


def _error_of(response: httpx.Response) -> ApiError:
    try:
        error = response.json()["error"]
        return ApiError(response.status_code, str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):
        return ApiError(response.status_code, "httpError", response.text[:200] or "no body")


class ApiClient:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(
                method, path, json=json_body, params=query, headers=headers
            )
        except httpx.TransportError as exc:
            raise ApiError(0, "unreachable", f"cannot reach {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            raise _error_of(response)
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, *, headers: dict[str, str] | None = None) -> Any:
        return self.request("POST", path, json_body=body, headers=headers)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json_body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def events(self, path: str) -> Iterator[StreamEvent]:
        """Server-sent events of ``path`` until the server ends the stream."""
        timeout = httpx.Timeout(10.0, read=None)
        try:
            with self._http.stream(
                "GET", path, headers={"Accept": "text/event-stream"}, timeout=timeout
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_of(response)
                yield from _parse_events(response.iter_lines())
        except httpx.TransportError as exc:
            raise ApiError(0, "unreachable", f"event stream interrupted: {exc}") from exc


def _parse_events(lines: Iterator[str]) -> Iterator[StreamEvent]:
    name, event_id = "message", None
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield StreamEvent(name, json.loads("\n".join(data)), event_id)
            name, data, event_id = "message", [], None  # the next event starts
            continue
        if line.startswith(":"):
            continue  # keep-alive comment
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            event_id = value
