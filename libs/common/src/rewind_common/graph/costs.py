"""Graph's resource-unit costs for identity and access requests.

From Microsoft Graph's throttling limits page: most requests cost 1 resource unit, a few
listings cost more; ``$select`` lowers the cost by one, ``$expand`` raises it by one,
``$top`` below 20 lowers it by one, and nothing costs less than 1. Every write also
counts against the separate write quota.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_BASE_COSTS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"^/groups/[^/]+/transitiveMembers"), 5),
    (re.compile(r"^/groups/[^/]+/members"), 3),
    (re.compile(r"^/directoryObjects/getByIds"), 3),
    (re.compile(r"^/subscribedSkus"), 3),
    (re.compile(r"^/(users|applications)(/delta(\(\))?)?$"), 2),
    (re.compile(r"^/applications/[^/]+/extensionProperties"), 2),
    (re.compile(r"^/oauth2PermissionGrants"), 2),
    (re.compile(r"^/servicePrincipals/[^/]+/appRoleAssignments"), 2),
    (re.compile(r"^/users/[^/]+/memberOf"), 2),
]


@dataclass(frozen=True)
class RequestCost:
    resource_units: int
    writes: int


def request_cost(method: str, path: str, query: Mapping[str, str]) -> RequestCost:
    """The cost of one request; ``path`` is relative to the version root (``/users``)."""
    if method.upper() != "GET":
        return RequestCost(resource_units=1, writes=1)
    units = 1
    for pattern, cost in _BASE_COSTS:
        if pattern.search(path):
            units = cost
            break
    if "$select" in query:
        units -= 1
    if "$expand" in query:
        units += 1
    top = query.get("$top")
    if top is not None and top.isdigit() and int(top) < 20:
        units -= 1
    return RequestCost(resource_units=max(units, 1), writes=0)
