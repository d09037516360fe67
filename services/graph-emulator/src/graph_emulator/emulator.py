"""The emulator: one tenant, its settings, and the pipeline every Graph request takes.

Order for each request (a ``$batch`` sub-request included): bearer token check →
injected faults → routing → throttling → the handler → response headers and
statistics. Errors are answered in Graph's shape; an unexpected exception becomes a 500
with Graph's ``generalException`` code (and is a bug in the emulator).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import uuid
from typing import Any

import orjson

from graph_emulator import (
    defaults,
    delta,
    directory_delta,
    errors,
    routes_apps,
    routes_ca,
    routes_directory,
    routes_grants,
    routes_groups,
    routes_links,
    routes_tenant,
    routes_users,
)
from graph_emulator.config import Config, Fault
from graph_emulator.context import Ctx
from graph_emulator.http import JSON_CONTENT_TYPE, Request, Response
from graph_emulator.ids import error_date
from graph_emulator.router import Router
from graph_emulator.schema import Shapes, shapes
from graph_emulator.stats import Stats
from graph_emulator.store import Tenant
from graph_emulator.throttling import Throttle, is_write, resource_units

log = logging.getLogger("graph_emulator")

BATCH_TEMPLATE = "/$batch"
_DIAGNOSTIC = orjson.dumps(
    {
        "ServerInfo": {
            "DataCenter": "Emulator",
            "Slice": "E",
            "Ring": "1",
            "ScaleUnit": "000",
            "RoleInstance": "graph-emulator",
        }
    }
).decode()
_ANONYMOUS_APP = "00000000-0000-0000-0000-000000000000"


def build_router() -> Router:
    router = Router()
    for module in (
        routes_users,
        routes_groups,
        routes_links,
        routes_apps,
        routes_grants,
        routes_ca,
        routes_tenant,
        routes_directory,
        delta,
        directory_delta,
    ):
        module.register(router)
    router.add("POST", BATCH_TEMPLATE, _batch_placeholder)
    return router


def _batch_placeholder(ctx: Ctx) -> Response:  # pragma: no cover - replaced in the pipeline
    raise errors.method_not_allowed()


def _claims(authorization: str | None) -> dict[str, Any] | None:
    """The claims of a bearer token that is a JWT (signature not checked), else None: an
    opaque token is accepted as it is."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    parts = authorization[7:].strip().split(".")
    if len(parts) != 3:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _app_id(authorization: str | None) -> str:
    """The calling application from a JWT's ``appid``/``azp`` claim, when there is one."""
    claims = _claims(authorization)
    if claims is None:
        return _ANONYMOUS_APP
    return str(claims.get("appid") or claims.get("azp") or _ANONYMOUS_APP)


def check_token(authorization: str | None, now: float) -> None:
    """Refuse a request as Graph does when its bearer token is missing, or is a JWT whose
    ``exp`` (seconds since the epoch) is not after ``now``. Graph checks the signature,
    audience and issuer too; the emulator cannot, so it does not."""
    authorization = authorization or ""
    if not authorization.lower().startswith("bearer ") or not authorization[7:].strip():
        raise errors.missing_token()
    expires = (_claims(authorization) or {}).get("exp")
    if isinstance(expires, int | float) and not isinstance(expires, bool) and expires <= now:
        raise errors.expired_token()


class Emulator:
    def __init__(self, tenant_id: str = defaults.DEFAULT_TENANT_ID) -> None:
        self.shapes: Shapes = shapes()
        self.tenant = Tenant(tenant_id.lower())
        self.config = Config()
        self.faults: list[Fault] = []
        self.stats = Stats()
        self.throttle = Throttle(lambda: self.config.throttling)
        self.router = build_router()
        self.reset()

    def reset(self) -> None:
        """An empty tenant: only the organization and the tenant-wide policies."""
        self.tenant.reset()
        s = self.shapes
        self.tenant.singletons["organization"] = defaults.organization(s, self.tenant.tenant_id)
        self.tenant.singletons["authorizationPolicy"] = defaults.authorization_policy(s)
        self.tenant.singletons["authenticationMethodsPolicy"] = (
            defaults.authentication_methods_policy(s)
        )
        self.tenant.method_configurations = {c["id"]: c for c in defaults.method_configurations(s)}

    # -- the pipeline --------------------------------------------------------------------

    async def handle(self, request: Request, *, in_batch: bool = False) -> Response:
        request_id = str(uuid.uuid4())
        client_request_id = request.header("client-request-id") or request_id
        method = request.method.upper()
        route = "(unmatched)"
        units = 0
        extra_headers: dict[str, str] = {}
        envelope = False
        try:
            # Routing first so refused and faulted requests count under their route. The
            # token is judged before anything else, an unknown path included; then
            # faults, which apply to every path.
            unrouted: errors.GraphError | None = None
            try:
                match = self.router.match(method, request.path)
            except errors.GraphError as exc:
                unrouted = exc
            else:
                route = match.template
                # a refused $batch is still an envelope: none of its requests was written
                envelope = route == BATCH_TEMPLATE and not in_batch
            if not in_batch and self.config.require_token:
                check_token(request.header("authorization"), time.time())
            await self._apply_faults(method, request.version_prefix + request.path)
            if unrouted is not None:
                raise unrouted
            ctx = Ctx(request, self.tenant, self.shapes, self.config, match.params)
            if route == BATCH_TEMPLATE:
                if in_batch:
                    raise errors.bad_request(
                        "A $batch request cannot contain another $batch.", "BadRequest"
                    )
                from graph_emulator.batch import execute

                response = await execute(self, request)
            else:
                query = ctx.query if method == "GET" else None
                units = resource_units(method, route, query)
                extra_headers = self.throttle.admit(
                    request.path,
                    units,
                    write=is_write(method, route),
                    app_id=_app_id(request.header("authorization")),
                    tenant_id=self.tenant.tenant_id,
                )
                response = match.handler(ctx)
        except errors.GraphError as exc:
            response = self.error_response(exc, request_id, client_request_id)
        except Exception:
            log.exception("unexpected error for %s %s", method, request.path)
            response = self.error_response(
                errors.GraphError(500, "generalException", "An unexpected error occurred."),
                request_id,
                client_request_id,
            )
        if not envelope:
            response.resource_units = units if response.status != 429 else 0
        response.headers.setdefault("request-id", request_id)
        response.headers.setdefault("client-request-id", client_request_id)
        response.headers.setdefault("x-ms-ags-diagnostic", _DIAGNOSTIC)
        if not envelope and units:
            response.headers.setdefault("x-ms-resource-unit", str(units))
        response.headers.update(extra_headers)
        if response.status != 204 and response.raw is None and response.body is not None:
            response.headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
            response.headers.setdefault("OData-Version", "4.0")
        elif response.content_type:
            response.headers.setdefault("Content-Type", response.content_type)
        response.headers.setdefault("Cache-Control", "no-cache")
        self.stats.record(
            method,
            route,
            response.status,
            response.resource_units,
            kind=None if envelope else ("write" if is_write(method, route) else "read"),
        )
        if not in_batch and self.config.latency_ms > 0:
            await asyncio.sleep(self.config.latency_ms / 1000)
        return response

    async def _apply_faults(self, method: str, path: str) -> None:
        for fault in list(self.faults):
            if not fault.matches(method, path):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            if fault.delay_ms > 0:
                await asyncio.sleep(fault.delay_ms / 1000)
            if fault.status is not None:
                raise _fault_error(fault)
            return

    def error_response(
        self,
        exc: errors.GraphError,
        request_id: str | None = None,
        client_request_id: str | None = None,
    ) -> Response:
        request_id = request_id or str(uuid.uuid4())
        client_request_id = client_request_id or request_id
        body = errors.error_body(
            exc.code,
            exc.message,
            request_id=request_id,
            client_request_id=client_request_id,
            date=error_date(),
            inner=exc.inner,
        )
        return Response(exc.status, body, headers=dict(exc.headers))


_FAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("Request_BadRequest", "The request was rejected (injected fault)."),
    403: ("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
    404: ("Request_ResourceNotFound", "Resource does not exist (injected fault)."),
    409: ("Request_MultipleObjectsWithSameKeyValue", "Conflict (injected fault)."),
    410: ("resyncRequired", "The delta token has expired; a full synchronization is required."),
    412: ("Request_PreconditionFailed", "Precondition failed (injected fault)."),
    500: ("generalException", "General exception while processing."),
    502: ("BadGateway", "The service is temporarily unavailable."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
    504: ("GatewayTimeout", "The gateway did not receive a timely response."),
}


def _fault_error(fault: Fault) -> errors.GraphError:
    status = fault.status or 500
    if status == 429:
        return errors.too_many_requests(
            fault.retry_after,
            {"x-ms-throttle-information": "ResourceUnitLimitExceeded"},
        )
    if status == 401:
        return errors.expired_token()
    fallback = (
        ("generalException", "Injected fault.")
        if status >= 500
        else ("BadRequest", "Injected fault.")
    )
    code, message = _FAULT_ERRORS.get(status, fallback)
    headers = {"Retry-After": str(fault.retry_after)} if status in (503, 504) else {}
    return errors.GraphError(status, code, message, headers=headers)


__all__: list[Any] = ["Emulator", "build_router", "check_token"]
