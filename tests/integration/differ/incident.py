"""A scripted incident on a generated tenant, and the changes it must produce.

``prepare`` sets the scene before the backup (a CA policy excludes a security group);
``play`` then does what an attacker would, through Graph requests only:

- three users' attributes overwritten;
- the CA policy's excluded groups emptied;
- a Microsoft 365 group soft-deleted and a security group hard-deleted;
- two members removed from another group;
- an application's redirect URIs replaced;
- a rogue application, its service principal, and an app role assignment granting that
  service principal a role on an existing API.

``Incident.expected`` lists exactly the (type, id, change, action) a difference report
must hold afterwards, and ``Incident.paths`` the property paths of each update.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

#: Sends one Graph request (path under /v1.0) and returns the JSON answer, if any.
GraphCall = Callable[[str, str, Any], Awaitable[Any]]

USER_EDIT = {"jobTitle": "Compromised", "officeLocation": "Unknown"}
ROGUE_REDIRECT = "https://login.evil.example/callback"


@dataclass
class Incident:
    policy: str = ""
    excluded_group: str = ""
    users: list[str] = field(default_factory=list)
    soft_deleted_group: str = ""
    hard_deleted_group: str = ""
    trimmed_group: str = ""
    removed_members: list[str] = field(default_factory=list)
    application: str = ""
    old_redirects: list[str] = field(default_factory=list)
    rogue_app: str = ""
    rogue_sp: str = ""
    rogue_assignment: str = ""

    @property
    def expected(self) -> set[tuple[str, str, str, str]]:
        changes = {("user", u, "updated", "update") for u in self.users}
        changes |= {
            ("conditionalAccessPolicy", self.policy, "updated", "update"),
            ("group", self.soft_deleted_group, "softDeleted", "restore"),
            ("group", self.hard_deleted_group, "hardDeleted", "recreate"),
            ("group", self.trimmed_group, "linksChanged", "links"),
            ("application", self.application, "updated", "update"),
            ("application", self.rogue_app, "created", "softDelete"),
            ("servicePrincipal", self.rogue_sp, "created", "softDelete"),
            ("appRoleAssignment", self.rogue_assignment, "created", "softDelete"),
        }
        return changes

    @property
    def paths(self) -> dict[tuple[str, str], list[str]]:
        paths = {("user", u): sorted(USER_EDIT) for u in self.users}
        paths[("conditionalAccessPolicy", self.policy)] = ["conditions.users.excludeGroups"]
        paths[("application", self.application)] = ["web.redirectUris"]
        return paths


def _members(state: dict[str, Any], group: str) -> list[str]:
    return list(state["links"].get("group", {}).get(group, {}).get("members") or [])


def _isolated_security_group(state: dict[str, Any], avoid: set[str]) -> str:
    """A security group nothing points at: no parent group, no app role assignment, no
    CA policy, so deleting it changes nothing but itself."""
    nested = {m for links in state["links"].get("group", {}).values() for m in links["members"]}
    assigned = {a["principalId"] for a in state["types"]["appRoleAssignment"]["active"]}
    for group in state["types"]["group"]["active"]:
        gid = group["id"]
        if "Unified" in (group.get("groupTypes") or []) or gid in avoid:
            continue
        if gid not in nested and gid not in assigned:
            return str(gid)
    raise AssertionError("the generated tenant has no isolated security group")


async def prepare(graph: GraphCall, state: dict[str, Any]) -> Incident:
    """Before the backup: a CA policy excludes a security group (the generator's
    policies exclude none)."""
    incident = Incident()
    groups = state["types"]["group"]["active"]
    incident.excluded_group = next(
        g["id"] for g in groups if "Unified" not in (g.get("groupTypes") or [])
    )
    policy = state["types"]["conditionalAccessPolicy"]["active"][0]
    incident.policy = policy["id"]
    conditions = policy["conditions"]
    conditions["users"]["excludeGroups"] = [incident.excluded_group]
    await graph(
        "PATCH",
        f"/identity/conditionalAccess/policies/{incident.policy}",
        {"conditions": conditions},
    )
    return incident


async def play(graph: GraphCall, state: dict[str, Any], incident: Incident) -> Incident:
    """The attack, on the tenant as ``state`` describes it after the backup."""
    types = state["types"]
    incident.users = [u["id"] for u in types["user"]["active"][:3]]
    for user in incident.users:
        await graph("PATCH", f"/users/{user}", USER_EDIT)

    policy = next(
        p for p in types["conditionalAccessPolicy"]["active"] if p["id"] == incident.policy
    )
    conditions = policy["conditions"]
    conditions["users"]["excludeGroups"] = []
    await graph(
        "PATCH",
        f"/identity/conditionalAccess/policies/{incident.policy}",
        {"conditions": conditions},
    )

    groups = types["group"]["active"]
    unified = [g["id"] for g in groups if "Unified" in (g.get("groupTypes") or [])]
    incident.soft_deleted_group = unified[0]
    incident.trimmed_group = next(g for g in unified[1:] if len(_members(state, g)) >= 2)
    incident.hard_deleted_group = _isolated_security_group(state, {incident.excluded_group})
    incident.removed_members = sorted(_members(state, incident.trimmed_group)[:2])
    await graph("DELETE", f"/groups/{incident.soft_deleted_group}", None)
    await graph("DELETE", f"/groups/{incident.hard_deleted_group}", None)
    for member in incident.removed_members:
        await graph("DELETE", f"/groups/{incident.trimmed_group}/members/{member}/$ref", None)

    application = types["application"]["active"][0]
    incident.application = application["id"]
    web = dict(application.get("web") or {})
    incident.old_redirects = list(web.get("redirectUris") or [])
    web["redirectUris"] = [ROGUE_REDIRECT]
    await graph("PATCH", f"/applications/{incident.application}", {"web": web})

    rogue = await graph("POST", "/applications", {"displayName": "Totally Legit Sync"})
    incident.rogue_app = rogue["id"]
    rogue_sp = await graph("POST", "/servicePrincipals", {"appId": rogue["appId"]})
    incident.rogue_sp = rogue_sp["id"]
    # An application permission: a role service principals may be assigned.
    resource, role = next(
        (sp, role)
        for sp in types["servicePrincipal"]["active"]
        for role in sp.get("appRoles") or []
        if "Application" in (role.get("allowedMemberTypes") or [])
    )
    assignment = await graph(
        "POST",
        f"/servicePrincipals/{resource['id']}/appRoleAssignedTo",
        {"principalId": incident.rogue_sp, "resourceId": resource["id"], "appRoleId": role["id"]},
    )
    incident.rogue_assignment = assignment["id"]
    return incident
