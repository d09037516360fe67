"""Graph's identity throttling: resource units for reads, a write budget, and the
Conditional Access limit (concepts/throttling-limits.md, "Identity and access").

- Every request costs resource units (RU): 1 by default, more for the paths Microsoft
  lists; ``$select`` takes 1 off, ``$expand`` adds 1, ``$top`` under 20 takes 1 off; at
  least 1. Reads draw on ``readUnitsPer10s``; each write costs 1 RU plus 1 write against
  ``writesPer150s`` (3,000 per 150 s: 20 per second).
- Conditional Access and named-location writes: 1 per second per tenant, answered
  without Retry-After as the docs say.
- A 429 carries ``Retry-After`` (seconds until enough budget frees up),
  ``x-ms-throttle-scope`` and ``x-ms-throttle-information``; every answer carries
  ``x-ms-resource-unit``, and ``x-ms-throttle-limit-percentage`` once over 80%.
Throttled requests do not draw on the budget, so the Retry-After given is enough.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from graph_emulator import errors
from graph_emulator.config import Throttling
from graph_emulator.query import Query

#: (method, route template) → base cost in resource units.
BASE_COSTS: dict[tuple[str, str], int] = {
    ("GET", "/applications"): 2,
    ("GET", "/applications/{id}/extensionProperties"): 2,
    ("GET", "/users"): 2,
    ("GET", "/groups/{id}/members"): 3,
    ("GET", "/groups/{id}/transitiveMembers"): 5,
    ("GET", "/oauth2PermissionGrants"): 2,
    ("GET", "/oauth2PermissionGrants/{id}"): 2,
    ("GET", "/servicePrincipals/{id}/appRoleAssignments"): 2,
    ("GET", "/subscribedSkus"): 3,
    ("POST", "/directoryObjects/getByIds"): 3,
    ("GET", "/users/{id}/memberOf"): 2,
}
_CA_PREFIX = "/identity/conditionalAccess"
#: POSTs that only read.
READ_POSTS = {"/directoryObjects/getByIds"}


def is_write(method: str, template: str) -> bool:
    return method != "GET" and template not in READ_POSTS


def resource_units(method: str, template: str, query: Query | None) -> int:
    units = BASE_COSTS.get((method, template), 1)
    if query is not None and method == "GET":
        if query.select:
            units -= 1
        if query.expand:
            units += 1
        if query.top is not None and query.top < 20:
            units -= 1
    return max(1, units)


class _Window:
    """A sliding window: how much was spent in the last ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.spent: deque[tuple[float, int]] = deque()
        self.total = 0

    def _prune(self, now: float) -> None:
        while self.spent and self.spent[0][0] <= now - self.seconds:
            self.total -= self.spent.popleft()[1]

    def wait_for(self, now: float, amount: int, limit: int) -> float:
        """Seconds until ``amount`` fits under ``limit`` (0 when it fits now)."""
        self._prune(now)
        if self.total + amount <= limit:
            return 0.0
        excess = self.total + amount - limit
        freed = 0
        for moment, spent in self.spent:
            freed += spent
            if freed >= excess:
                return moment + self.seconds - now
        return self.seconds

    def add(self, now: float, amount: int) -> None:
        self.spent.append((now, amount))
        self.total += amount

    def used(self, now: float) -> int:
        self._prune(now)
        return self.total


class Throttle:
    def __init__(
        self, settings: Callable[[], Throttling], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        self.reads = _Window(10.0)
        self.writes = _Window(150.0)
        self.conditional_access = _Window(1.0)

    def admit(
        self, path: str, units: int, *, write: bool, app_id: str, tenant_id: str
    ) -> dict[str, str]:
        """Spend the request's budget or raise Graph's 429. Returns headers to add."""
        settings = self._settings()
        if not settings.enabled:
            return {}
        now = self._clock()
        ca_limit = settings.conditional_access_per_second
        if (
            write
            and path.startswith(_CA_PREFIX)
            and self.conditional_access.wait_for(now, 1, ca_limit)
        ):
            raise errors.too_many_requests(
                None,
                {
                    "x-ms-throttle-scope": f"Tenant/Write/{app_id}/{tenant_id}",
                    "x-ms-throttle-information": "WriteLimitExceeded",
                },
            )
        read_wait = self.reads.wait_for(now, units, settings.read_units_per_10s)
        write_wait = self.writes.wait_for(now, 1, settings.writes_per_150s) if write else 0.0
        if read_wait or write_wait:
            information = (
                "WriteLimitExceeded" if write_wait >= read_wait else "ResourceUnitLimitExceeded"
            )
            scope = "Write" if write_wait >= read_wait else "Read"
            raise errors.too_many_requests(
                max(1, math.ceil(max(read_wait, write_wait))),
                {
                    "x-ms-throttle-scope": f"Tenant_Application/{scope}/{app_id}/{tenant_id}",
                    "x-ms-throttle-information": information,
                },
            )
        self.reads.add(now, units)
        if write:
            self.writes.add(now, 1)
            if path.startswith(_CA_PREFIX):
                self.conditional_access.add(now, 1)
        headers = {}
        usage = self.reads.used(now) / max(1, settings.read_units_per_10s)
        if write:
            usage = max(usage, self.writes.used(now) / max(1, settings.writes_per_150s))
        if usage > 0.8:
            headers["x-ms-throttle-limit-percentage"] = f"{min(usage, 1.8):.1f}"
        return headers
