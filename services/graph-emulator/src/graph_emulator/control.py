"""The test-only endpoints under ``/_emulator`` (never on a Graph path).

```
POST   /_emulator/reset                      empty tenant (organization and policies stay)
POST   /_emulator/generate                   {"users", "groups", "membersPerGroup", ...}
GET    /_emulator/state                      every object, deleted ones included, and links
GET    /_emulator/config   PUT /_emulator/config
POST   /_emulator/faults   GET /_emulator/faults   DELETE /_emulator/faults
POST   /_emulator/objects/{type}/{id}/sync   mark a user or group as synced from on-premises
GET    /_emulator/stats    DELETE /_emulator/stats
```
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import orjson

from graph_emulator import errors, generator
from graph_emulator.config import parse_fault
from graph_emulator.emulator import Emulator
from graph_emulator.http import Request, Response, no_content, parse_json
from graph_emulator.ids import timestamp
from graph_emulator.resources import AUTHENTICATION_METHOD_CONFIGURATION, BY_NAME
from graph_emulator.store import Body
from graph_emulator.views import full_body

_COLLECTION_TYPES = (
    "user", "group", "application", "servicePrincipal", "conditionalAccessPolicy",
    "namedLocation", "oAuth2PermissionGrant", "appRoleAssignment",
)  # fmt: skip


def _body(request: Request) -> Any:
    if not request.body.strip():
        return {}
    try:
        return parse_json(request.body)
    except ValueError:
        raise errors.invalid_json() from None


def state(emulator: Emulator) -> dict[str, Any]:
    tenant = emulator.tenant
    shapes = emulator.shapes
    types: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name in BY_NAME:
        resource = BY_NAME[name]
        if name in _COLLECTION_TYPES:
            collection = tenant.collections[name]
            active = [
                full_body(shapes, resource, collection.items[i])
                for i in sorted(collection.items)
                if name != "appRoleAssignment" or _visible_assignment(emulator, collection.items[i])
            ]
            deleted = [
                full_body(shapes, resource, collection.deleted[i])
                for i in sorted(collection.deleted)
            ]
        elif name == "authenticationMethodsPolicy":
            policy = full_body(shapes, resource, tenant.singletons[name])
            policy["authenticationMethodConfigurations"] = [
                _config_body(emulator, config) for config in tenant.method_configurations.values()
            ]
            active, deleted = [policy], []
        else:
            active, deleted = [full_body(shapes, resource, tenant.singletons[name])], []
        types[name] = {"active": active, "deleted": deleted}
    links: dict[str, dict[str, dict[str, Any]]] = {
        "group": {},
        "application": {},
        "servicePrincipal": {},
        "user": {},
    }
    groups = tenant.collections["group"]
    for group_id in sorted([*groups.items, *groups.deleted]):
        links["group"][group_id] = {
            "members": tenant.link_targets("members", group_id),
            "owners": tenant.link_targets("owners", group_id),
        }
    for kind in ("application", "servicePrincipal"):
        collection = tenant.collections[kind]
        for object_id in sorted([*collection.items, *collection.deleted]):
            links[kind][object_id] = {"owners": tenant.link_targets("owners", object_id)}
    users = tenant.collections["user"]
    for user_id in sorted([*users.items, *users.deleted]):
        links["user"][user_id] = {"manager": tenant.visible_manager(user_id)}
    return {"tenantId": tenant.tenant_id, "types": types, "links": links}


def _visible_assignment(emulator: Emulator, body: Body) -> bool:
    """What Graph lists: an assignment whose principal or resource is in the recycle bin is
    hidden until that object is restored."""
    tenant = emulator.tenant
    return tenant.is_active(body["principalId"]) and tenant.is_active(body["resourceId"])


def _config_body(emulator: Emulator, config: Body) -> dict[str, Any]:
    out = full_body(emulator.shapes, AUTHENTICATION_METHOD_CONFIGURATION, config)
    out["includeTargets"] = config.get("includeTargets", [])
    return out


def _sync(emulator: Emulator, type_name: str, object_id: str) -> dict[str, Any]:
    """Entra Connect's view of an object synced from Active Directory."""
    if type_name not in ("user", "group"):
        raise errors.bad_request(
            f"Only users and groups are synced from on-premises, not '{type_name}'.", "BadRequest"
        )
    tenant = emulator.tenant
    body = tenant.active(type_name, object_id.lower())
    if body is None:
        raise errors.not_found(object_id)
    name = str(body.get("mailNickname") or body.get("displayName") or "object")[:20]
    values: dict[str, Any] = {
        "onPremisesSyncEnabled": True,
        "onPremisesLastSyncDateTime": timestamp(),
        "onPremisesSamAccountName": name,
        "onPremisesDomainName": "contoso.local",
        "onPremisesSecurityIdentifier": "S-1-5-21-1180699209-877415012-3182924384-"
        + str(int(uuid.UUID(body["id"]).int % 90000) + 10000),
    }
    if type_name == "user":
        values.update(
            {
                "onPremisesImmutableId": base64.b64encode(uuid.UUID(body["id"]).bytes_le).decode(),
                "onPremisesDistinguishedName": (
                    f"CN={body.get('displayName')},OU=Users,DC=contoso,DC=local"
                ),
                "onPremisesUserPrincipalName": body.get("userPrincipalName"),
            }
        )
    else:
        values["onPremisesNetBiosName"] = "CONTOSO"
    tenant.update(type_name, body["id"], values)
    return full_body(emulator.shapes, BY_NAME[type_name], body)


def _json(status: int, body: Any) -> Response:
    return Response(status, body, headers={"Content-Type": "application/json"})


async def handle(emulator: Emulator, method: str, path: str, request: Request) -> Response:
    parts = [p for p in path.split("/") if p][1:]
    try:
        return _dispatch(emulator, method, parts, request)
    except errors.GraphError as exc:
        response = emulator.error_response(exc)
        response.headers["Content-Type"] = "application/json"
        return response


def _dispatch(emulator: Emulator, method: str, parts: list[str], request: Request) -> Response:
    route = (method, tuple(parts[:1]))
    if route == ("POST", ("reset",)):
        emulator.reset()
        emulator.throttle.reset()
        return no_content()
    if route == ("POST", ("generate",)):
        counts = generator.generate(emulator, _body(request))
        return _json(200, counts)
    if route == ("GET", ("state",)):
        return Response(200, raw=orjson.dumps(state(emulator)), content_type="application/json")
    if route == ("GET", ("config",)):
        return _json(200, emulator.config.to_dict())
    if route == ("PUT", ("config",)):
        emulator.config.update(_body(request))
        return _json(200, emulator.config.to_dict())
    if route == ("POST", ("faults",)):
        fault = parse_fault(_body(request))
        emulator.faults.append(fault)
        return _json(201, fault.to_dict())
    if route == ("GET", ("faults",)):
        return _json(200, {"faults": [f.to_dict() for f in emulator.faults]})
    if route == ("DELETE", ("faults",)):
        emulator.faults.clear()
        return no_content()
    if route == ("GET", ("stats",)):
        return _json(200, emulator.stats.to_dict())
    if route == ("DELETE", ("stats",)):
        emulator.stats = type(emulator.stats)()
        return no_content()
    if method == "POST" and len(parts) == 4 and parts[0] == "objects" and parts[3] == "sync":
        return _json(200, _sync(emulator, parts[1], parts[2]))
    raise errors.GraphError(
        404, "NotFound", f"No emulator endpoint {method} /_emulator/{'/'.join(parts)}."
    )
