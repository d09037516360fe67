"""Run-time settings changed through ``PUT /_emulator/config`` and ``/_emulator/faults``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from graph_emulator import errors


@dataclass
class Throttling:
    enabled: bool = False
    #: Graph's limit for one app in a large tenant (>500 users).
    read_units_per_10s: int = 8000
    #: 3,000 writes per 150 s per app and tenant (20 writes per second).
    writes_per_150s: int = 3000
    #: Identity protection and Conditional Access: 1 request per second per tenant.
    conditional_access_per_second: int = 1


@dataclass
class Config:
    latency_ms: float = 0.0
    throttling: Throttling = field(default_factory=Throttling)
    require_token: bool = False
    #: Objects per delta page (Graph pages user and group delta by about 200).
    delta_page_size: int = 200
    #: How long a deltaLink stays usable: seven days for directory objects on Graph.
    delta_token_lifetime_seconds: float = 7 * 24 * 3600.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "latencyMs": self.latency_ms,
            "throttling": {
                "enabled": self.throttling.enabled,
                "readUnitsPer10s": self.throttling.read_units_per_10s,
                "writesPer150s": self.throttling.writes_per_150s,
                "conditionalAccessPerSecond": self.throttling.conditional_access_per_second,
            },
            "requireToken": self.require_token,
            "deltaPageSize": self.delta_page_size,
            "deltaTokenLifetimeSeconds": self.delta_token_lifetime_seconds,
        }

    def update(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise errors.bad_request("The configuration must be a JSON object.", "BadRequest")
        if "latencyMs" in data:
            self.latency_ms = _number(data["latencyMs"], "latencyMs")
        if "requireToken" in data:
            self.require_token = _bool(data["requireToken"], "requireToken")
        if "deltaPageSize" in data:
            self.delta_page_size = max(1, int(_number(data["deltaPageSize"], "deltaPageSize")))
        if "deltaTokenLifetimeSeconds" in data:
            self.delta_token_lifetime_seconds = max(
                0.0, _number(data["deltaTokenLifetimeSeconds"], "deltaTokenLifetimeSeconds")
            )
        throttling = data.get("throttling")
        if throttling is not None:
            if not isinstance(throttling, dict):
                raise errors.bad_request("'throttling' must be an object.", "BadRequest")
            t = self.throttling
            if "enabled" in throttling:
                t.enabled = _bool(throttling["enabled"], "throttling.enabled")
            if "readUnitsPer10s" in throttling:
                t.read_units_per_10s = int(
                    _number(throttling["readUnitsPer10s"], "readUnitsPer10s")
                )
            if "writesPer150s" in throttling:
                t.writes_per_150s = int(_number(throttling["writesPer150s"], "writesPer150s"))
            if "conditionalAccessPerSecond" in throttling:
                t.conditional_access_per_second = int(
                    _number(throttling["conditionalAccessPerSecond"], "conditionalAccessPerSecond")
                )


@dataclass
class Fault:
    """Answer matching requests with ``status`` (and/or wait ``delay_ms`` first)."""

    method: str | None
    path_regex: re.Pattern[str]
    status: int | None
    times: int | None
    delay_ms: float = 0.0
    retry_after: int = 1

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path_regex.search(path) is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "pathRegex": self.path_regex.pattern,
            "status": self.status,
            "times": self.times,
            "delayMs": self.delay_ms,
            "retryAfter": self.retry_after,
        }


def parse_fault(data: Any) -> Fault:
    if not isinstance(data, dict):
        raise errors.bad_request("A fault must be a JSON object.", "BadRequest")
    method = data.get("method")
    if method is not None and not isinstance(method, str):
        raise errors.bad_request("'method' must be a string.", "BadRequest")
    pattern = data.get("pathRegex", ".*")
    if not isinstance(pattern, str):
        raise errors.bad_request("'pathRegex' must be a string.", "BadRequest")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise errors.bad_request(
            f"'pathRegex' is not a regular expression: {exc}", "BadRequest"
        ) from None
    status = data.get("status")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599
    ):
        raise errors.bad_request(
            "'status' must be an HTTP error status (400-599) or null.", "BadRequest"
        )
    times = data.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise errors.bad_request("'times' must be a positive integer or null.", "BadRequest")
    delay = _number(data.get("delayMs", 0), "delayMs")
    if status is None and delay <= 0:
        raise errors.bad_request("A fault needs a 'status' or a 'delayMs'.", "BadRequest")
    retry_after = int(_number(data.get("retryAfter", 1), "retryAfter"))
    return Fault(
        method=method.upper() if method else None,
        path_regex=compiled,
        status=status,
        times=times,
        delay_ms=delay,
        retry_after=retry_after,
    )


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise errors.bad_request(f"'{name}' must be a non-negative number.", "BadRequest")
    return float(value)


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise errors.bad_request(f"'{name}' must be true or false.", "BadRequest")
    return value
