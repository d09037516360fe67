"""The request and response values every layer passes around (no framework objects).

A ``$batch`` sub-request is the same ``Request`` built from the batch body, so the whole
pipeline (tokens, faults, throttling, statistics, routing) treats both alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import orjson

JSON_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8"
)


@dataclass
class Request:
    method: str
    #: Path below the API version, percent-decoded: ``/users/{id}``.
    path: str
    #: Raw query string (still percent-encoded).
    query_string: str
    headers: dict[str, str]
    body: bytes
    #: ``http://host:port`` the client used, for absolute links.
    origin: str
    #: ``/v1.0``.
    version_prefix: str = "/v1.0"
    _query: list[tuple[str, str]] | None = field(default=None, repr=False)

    @property
    def query(self) -> list[tuple[str, str]]:
        if self._query is None:
            self._query = parse_qsl(self.query_string, keep_blank_values=True)
        return self._query

    def param(self, name: str) -> str | None:
        """A query option by name; OData system options are matched case-insensitively."""
        lowered = name.lower()
        for key, value in self.query:
            if key.lower() == lowered:
                return value
        return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def base_url(self) -> str:
        """``http://host:port/v1.0``: what ``@odata.nextLink`` and ``@odata.context`` use."""
        return self.origin + self.version_prefix


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Raw bytes for non-JSON bodies (``$count`` answers text, ``$metadata`` XML).
    raw: bytes | None = None
    content_type: str | None = None
    #: Resource units this request cost (for ``x-ms-resource-unit`` and statistics).
    resource_units: int = 0

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return orjson.dumps(self.body)


def no_content() -> Response:
    return Response(204)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(status, body)


def parse_json(body: bytes) -> Any:
    """Raises ``orjson.JSONDecodeError`` (a ``ValueError``) on malformed input."""
    return orjson.loads(body)


def split_path(path: str) -> list[str]:
    return [unquote(part) for part in path.split("/") if part]


def encode_query(pairs: list[tuple[str, str]]) -> str:
    # Graph keeps ``$`` and ``,`` readable in the links it builds.
    return "&".join(f"{quote(k, safe='$@')}={quote(v, safe='$,()=:@')}" for k, v in pairs)
