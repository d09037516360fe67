"""Finding objects from URL segments and ``@odata.id`` references, as Entra does."""

from __future__ import annotations

from urllib.parse import urlparse

from graph_emulator import errors
from graph_emulator.context import Ctx
from graph_emulator.ids import is_guid
from graph_emulator.store import Body

#: URL collection segment → kinds a reference through it may name.
_REFERENCE_SEGMENTS = {
    "directoryobjects": ("user", "group", "application", "servicePrincipal"),
    "users": ("user",),
    "groups": ("group",),
    "serviceprincipals": ("servicePrincipal",),
    "applications": ("application",),
}


def require(ctx: Ctx, kind: str, key: str) -> Body:
    """The active object ``key`` names, or Graph's 400 (malformed id) / 404."""
    if kind == "user" and not is_guid(key):
        object_id = ctx.tenant.users_by_upn.get(key.lower())
        body = ctx.tenant.active("user", object_id) if object_id else None
        if body is None:
            raise errors.not_found(key)
        return body
    if not is_guid(key):
        raise errors.invalid_object_id(key)
    body = ctx.tenant.active(kind, key.lower())
    if body is None:
        raise errors.not_found(key)
    return body


def by_alternate_key(ctx: Ctx, kind: str, key: str) -> Body:
    """``applications(appId='…')`` / ``servicePrincipals(appId='…')``."""
    inner = key[1:-1]
    name, _, raw = inner.partition("=")
    value = raw.strip().strip("'")
    name = name.strip()
    if name not in ("appId", "uniqueName") or (kind == "servicePrincipal" and name != "appId"):
        raise errors.segment_not_found(key)
    for body in ctx.tenant.collections[kind].items.values():
        if str(body.get(name, "")).lower() == value.lower():
            return body
    raise errors.not_found(value)


def resolve(ctx: Ctx, kind: str, key: str) -> Body:
    if key.startswith("("):
        return by_alternate_key(ctx, kind, key)
    return require(ctx, kind, key)


def reference_target(ctx: Ctx, url: str) -> tuple[str, Body]:
    """The active directory object an ``@odata.id`` / ``@odata.bind`` URL names."""
    path = urlparse(url).path if "://" in url else url
    parts = [p for p in path.split("/") if p]
    if not parts:
        raise errors.bad_request(
            f"Invalid URL format specified in @odata.bind or @odata.id: '{url}'."
        )
    object_id = parts[-1]
    if not is_guid(object_id):
        raise errors.invalid_object_id(object_id)
    kinds = _REFERENCE_SEGMENTS.get(parts[-2].lower(), ()) if len(parts) > 1 else ()
    if len(parts) > 1 and not kinds:
        raise errors.bad_request(
            f"Invalid URL format specified in @odata.bind or @odata.id: '{url}'."
        )
    found = ctx.tenant.directory_object(object_id.lower())
    if found is None or (kinds and found[0] not in kinds):
        raise errors.not_found(object_id)
    return found


def reference_body_target(ctx: Ctx) -> tuple[str, Body]:
    """The object named by a ``{"@odata.id": …}`` request body."""
    body = ctx.json_body()
    if not isinstance(body, dict) or not isinstance(body.get("@odata.id"), str):
        raise errors.bad_request("The request body must contain an '@odata.id' reference.")
    extra = set(body) - {"@odata.id", "@odata.type", "@odata.context"}
    if extra:
        raise errors.bad_request(f"Invalid property '{sorted(extra)[0]}'.")
    return reference_target(ctx, body["@odata.id"])
