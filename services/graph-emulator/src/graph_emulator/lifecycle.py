"""Delete, restore and purge with Entra's side effects, whatever path asked for them.

- Users, Microsoft 365 groups, applications and service principals go to
  ``/directory/deletedItems``; security groups are deleted permanently.
- A deleted user's userPrincipalName is prefixed with its id (without dashes), which
  frees the name; restoring needs the original name to be free again.
- Deleting an application deletes its service principal in the home tenant too;
  restoring the application does not restore the service principal.
- Links to a deleted object are hidden until it is restored (store), and dropped when it
  is purged.
"""

from __future__ import annotations

from graph_emulator import errors
from graph_emulator.ids import timestamp
from graph_emulator.store import Body, Tenant


def is_unified(group: Body) -> bool:
    return "Unified" in (group.get("groupTypes") or ())


def delete(tenant: Tenant, kind: str, object_id: str) -> None:
    body = tenant.active(kind, object_id)
    if body is None:
        raise errors.not_found(object_id)
    if body.get("onPremisesSyncEnabled") is True:
        raise errors.synced_object()
    if kind == "group" and not is_unified(body):
        purge(tenant, kind, object_id)
        return
    now = timestamp()
    if kind == "user":
        upn = str(body.get("userPrincipalName", ""))
        tenant.users_by_upn.pop(upn.lower(), None)
        tenant.deleted_upn[object_id] = upn
        body["userPrincipalName"] = object_id.replace("-", "") + upn
    tenant.soft_delete(kind, object_id, now)
    if kind == "application":
        app_id = body.get("appId")
        for sp in list(tenant.collections["servicePrincipal"].items.values()):
            if sp.get("appId") == app_id and sp.get("appOwnerOrganizationId") == tenant.tenant_id:
                tenant.soft_delete("servicePrincipal", sp["id"], now)


def restore(tenant: Tenant, kind: str, object_id: str) -> Body:
    if kind == "user":
        upn = tenant.deleted_upn.get(object_id, "")
        if upn.lower() in tenant.users_by_upn:
            raise errors.bad_request(
                "Another object with the same value for property userPrincipalName already exists."
            )
    if kind == "servicePrincipal":
        body = tenant.soft_deleted(kind, object_id) or {}
        for sp in tenant.collections["servicePrincipal"].items.values():
            if sp.get("appId") == body.get("appId"):
                raise errors.GraphError(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "The service principal cannot be created, updated, or restored because the "
                    f"service principal name {body.get('appId')} is already in use.",
                )
    restored = tenant.restore(kind, object_id)
    if kind == "user":
        upn = tenant.deleted_upn.pop(object_id, str(restored.get("userPrincipalName")))
        restored["userPrincipalName"] = upn
        tenant.users_by_upn[upn.lower()] = object_id
    return restored


def purge(tenant: Tenant, kind: str, object_id: str) -> None:
    if kind == "user":
        body = tenant.active(kind, object_id)
        if body is not None:
            tenant.users_by_upn.pop(str(body.get("userPrincipalName", "")).lower(), None)
        tenant.deleted_upn.pop(object_id, None)
    tenant.purge(kind, object_id)
