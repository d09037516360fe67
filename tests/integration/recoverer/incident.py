"""The incident recovery tests undo, staged through Graph calls on a generated tenant.

Before the backup (``prepare``): a security group G that an enabled Conditional Access
policy excludes and that is itself a member of another security group H, with members
of its own. After the backup (``strike``):

- three users' attributes are overwritten;
- the policy's excluded groups are emptied;
- a Microsoft 365 group is soft-deleted;
- G is hard-deleted (a security group skips the recycle bin);
- two members are removed from a group;
- an application's redirect URIs are changed;
- a rogue application is registered, with a service principal and an app role
  assignment to Microsoft Graph.

``call(method, path, body)`` sends a Graph request (``/users/...``) and returns its JSON,
so the same incident runs in process and against an emulator process.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

GraphCall = Callable[[str, str, Any], Awaitable[Any]]
GRAPH_REF = "https://graph.microsoft.com/v1.0/directoryObjects/"


@dataclass
class Incident:
    break_glass: list[str]
    users: list[str] = field(default_factory=list)
    policy: str = ""
    m365_group: str = ""
    hard_deleted: str = ""
    parent_group: str = ""
    trimmed_group: str = ""
    removed_members: list[str] = field(default_factory=list)
    application: str = ""
    rogue_app: str = ""
    rogue_sp: str = ""
    rogue_assignment: str = ""
    graph_sp: str = ""


def _active(state: Mapping[str, Any], type_name: str) -> list[dict[str, Any]]:
    # Copies: the caller's state is what the recovered tenant is compared with.
    return copy.deepcopy(list(state["types"][type_name]["active"]))


async def prepare(call: GraphCall, state: Mapping[str, Any]) -> Incident:
    users = _active(state, "user")
    groups = _active(state, "group")
    security = [g for g in groups if "Unified" not in g["groupTypes"]]
    assert len(security) >= 2, "the tenant needs two security groups"
    g, h = security[0], security[1]
    policies = [p for p in _active(state, "conditionalAccessPolicy") if p["state"] == "enabled"]
    policy = policies[0] if policies else _active(state, "conditionalAccessPolicy")[0]
    conditions = policy["conditions"]
    conditions["users"]["excludeGroups"] = sorted({*conditions["users"]["excludeGroups"], g["id"]})
    await call(
        "PATCH", f"/identity/conditionalAccess/policies/{policy['id']}", {"conditions": conditions}
    )
    members_of_h = state["links"]["group"].get(h["id"], {}).get("members", [])
    if g["id"] not in members_of_h:
        await call("POST", f"/groups/{h['id']}/members/$ref", {"@odata.id": GRAPH_REF + g["id"]})
    # the generated emergency access accounts, which every generated policy excludes
    emergency = [u["id"] for u in users if u["userPrincipalName"].startswith("breakglass")]
    assert emergency, "the tenant needs its emergency access accounts"
    incident = Incident(break_glass=emergency)
    incident.policy = policy["id"]
    incident.hard_deleted = g["id"]
    incident.parent_group = h["id"]
    return incident


async def strike(call: GraphCall, state: Mapping[str, Any], incident: Incident) -> Incident:
    users = _active(state, "user")
    for index, user in enumerate(users[5:8]):
        await call(
            "PATCH",
            f"/users/{user['id']}",
            {"jobTitle": f"Compromised {index}", "department": "Nowhere", "officeLocation": None},
        )
        incident.users.append(user["id"])
    policy = next(
        p for p in _active(state, "conditionalAccessPolicy") if p["id"] == incident.policy
    )
    conditions = policy["conditions"]
    conditions["users"]["excludeGroups"] = []
    await call(
        "PATCH",
        f"/identity/conditionalAccess/policies/{incident.policy}",
        {"conditions": conditions},
    )
    m365 = next(g for g in _active(state, "group") if "Unified" in g["groupTypes"])
    incident.m365_group = m365["id"]
    await call("DELETE", f"/groups/{m365['id']}", None)
    await call("DELETE", f"/groups/{incident.hard_deleted}", None)
    # Security groups skip the recycle bin; purge in case a tenant keeps them.
    with contextlib.suppress(Exception):
        await call("DELETE", f"/directory/deletedItems/{incident.hard_deleted}", None)
    trimmed = next(
        g
        for g in _active(state, "group")
        if g["id"] not in (incident.hard_deleted, m365["id"])
        and len(state["links"]["group"].get(g["id"], {}).get("members", [])) >= 3
    )
    incident.trimmed_group = trimmed["id"]
    members = [
        m
        for m in list(state["links"]["group"][trimmed["id"]]["members"])
        if m != incident.hard_deleted
    ]
    for member in members[:2]:
        await call("DELETE", f"/groups/{trimmed['id']}/members/{member}/$ref", None)
        incident.removed_members.append(member)
    app = _active(state, "application")[0]
    incident.application = app["id"]
    await call(
        "PATCH",
        f"/applications/{app['id']}",
        {"web": {"redirectUris": ["https://attacker.example/callback"]}},
    )
    rogue = await call("POST", "/applications", {"displayName": "Totally Legit Sync Tool"})
    incident.rogue_app = rogue["id"]
    sp = await call("POST", "/servicePrincipals", {"appId": rogue["appId"]})
    incident.rogue_sp = sp["id"]
    graph_sp = next(
        s
        for s in _active(state, "servicePrincipal")
        if s["appId"] == "00000003-0000-0000-c000-000000000000"
    )
    incident.graph_sp = graph_sp["id"]
    role = graph_sp["appRoles"][0]["id"]
    assignment = await call(
        "POST",
        f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo",
        {"principalId": sp["id"], "resourceId": graph_sp["id"], "appRoleId": role},
    )
    incident.rogue_assignment = assignment["id"]
    return incident
