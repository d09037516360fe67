"""``POST /v1.0/$batch`` (concepts/json-batching.md).

- At most 20 requests, unique ids, each with ``id``, ``method`` and a URL relative to
  the version (``/users`` or ``users``). A URL carrying the version (``/v1.0/users``, or
  an absolute ``https://…/v1.0/users`` as msgraph-sdk's ``BatchRequestItem`` sends it)
  fails that request with "Resource not found for the segment 'v1.0'."; any other
  absolute URL fails the whole batch.
- A request with a body needs a ``Content-Type`` header.
- ``dependsOn`` orders requests; when a dependency did not succeed the dependent request
  answers 424 Failed Dependency.
- The envelope answers 200 with one status per request; each request is throttled and
  counted on its own, so a 429 can sit inside a 200.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from graph_emulator import errors
from graph_emulator.http import Request, Response, parse_json

if TYPE_CHECKING:
    from graph_emulator.emulator import Emulator

MAX_REQUESTS = 20
_INVALID = "Invalid batch payload format."
_KEPT_HEADERS = {
    "content-type", "location", "retry-after", "odata-version", "cache-control",
    "x-ms-resource-unit", "x-ms-throttle-scope", "x-ms-throttle-information",
    "x-ms-throttle-limit-percentage",
}  # fmt: skip


def _invalid(message: str = _INVALID) -> errors.GraphError:
    return errors.GraphError(400, "BadRequest", message)


def _parse(request: Request) -> list[dict[str, Any]]:
    try:
        payload = parse_json(request.body)
    except ValueError:
        raise errors.invalid_json() from None
    if not isinstance(payload, dict) or not isinstance(payload.get("requests"), list):
        raise _invalid()
    items: list[dict[str, Any]] = payload["requests"]
    if not items:
        raise _invalid()
    if len(items) > MAX_REQUESTS:
        raise _invalid(f"The number of requests in the batch exceeds the limit of {MAX_REQUESTS}.")
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            raise _invalid()
        for name in ("id", "method", "url"):
            if not isinstance(item.get(name), str) or not item[name]:
                raise _invalid()
        if item["id"] in seen:
            raise _invalid(f"Batch request contains duplicate ids: '{item['id']}'.")
        depends = item.get("dependsOn")
        if depends is not None and (
            not isinstance(depends, list)
            or not all(isinstance(d, str) and d in seen for d in depends)
        ):
            raise _invalid("A request's dependsOn must name requests that precede it in the batch.")
        headers = item.get("headers")
        if headers is not None and not isinstance(headers, dict):
            raise _invalid()
        url = item["url"]
        if "://" in url and urlsplit(url).path.lstrip("/").split("/", 1)[0] not in ("v1.0", "beta"):
            raise _invalid()
        seen.add(item["id"])
    return items


def _sub_request(outer: Request, item: dict[str, Any]) -> Request | errors.GraphError:
    url = str(item["url"])
    if "://" in url:
        split = urlsplit(url)
        path, query = split.path, split.query
    else:
        path, _, query = url.partition("?")
    path = "/" + path.lstrip("/")
    first = path.strip("/").split("/", 1)[0]
    if first in ("v1.0", "beta"):
        return errors.segment_not_found(first)
    headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    body = item.get("body")
    raw = b""
    if body is not None:
        if "content-type" not in headers:
            return errors.GraphError(
                400,
                "BadRequest",
                f"Write request id : {item['id']} does not contain Content-Type header or body.",
            )
        if isinstance(body, str) and "json" not in headers["content-type"]:
            try:
                raw = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raw = body.encode()
        else:
            raw = orjson.dumps(body)
    for name in ("authorization", "client-request-id"):
        if name not in headers and outer.header(name):
            headers[name] = outer.header(name) or ""
    return Request(
        method=str(item["method"]).upper(),
        path=path,
        query_string=query,
        headers=headers,
        body=raw,
        origin=outer.origin,
        version_prefix=outer.version_prefix,
    )


def _entry(item_id: str, response: Response) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": item_id,
        "status": response.status,
        "headers": {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS},
    }
    if response.raw is not None:
        entry["body"] = response.raw.decode("utf-8", "replace")
    elif response.body is not None:
        entry["body"] = response.body
    return entry


async def execute(emulator: Emulator, request: Request) -> Response:
    items = _parse(request)
    statuses: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for item in items:
        item_id = str(item["id"])
        failed = [d for d in item.get("dependsOn") or [] if not 200 <= statuses.get(d, 0) < 300]
        if failed:
            error = errors.GraphError(
                424,
                "FailedDependency",
                f"The request depends on request '{failed[0]}', which failed.",
            )
            response = emulator.error_response(error)
            response.headers["Content-Type"] = "application/json"
            emulator.stats.record(
                str(item["method"]).upper(),
                "(failed dependency)",
                424,
                0,
                kind="read" if str(item["method"]).upper() == "GET" else "write",
            )
        else:
            sub = _sub_request(request, item)
            if isinstance(sub, errors.GraphError):
                response = emulator.error_response(sub)
                response.headers["Content-Type"] = "application/json"
                emulator.stats.record(
                    str(item["method"]).upper(),
                    "(unmatched)",
                    sub.status,
                    0,
                    kind="read" if str(item["method"]).upper() == "GET" else "write",
                )
            else:
                response = await emulator.handle(sub, in_batch=True)
        statuses[item_id] = response.status
        out.append(_entry(item_id, response))
    return Response(200, {"responses": out})
