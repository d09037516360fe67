"""Checks every POST and PATCH goes through, and how a PATCH merges into a stored body."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graph_emulator import errors
from graph_emulator.context import Ctx
from graph_emulator.resources import Resource
from graph_emulator.schema import WriteBody
from graph_emulator.store import Body


def check_body(
    ctx: Ctx,
    resource: Resource,
    *,
    existing: Body | None,
    type_name: str | None = None,
    navigations: Iterable[str] = (),
    allow_binds: Iterable[str] = (),
) -> WriteBody:
    """The request body, checked against the metadata and the resource's write rules.
    ``existing`` is the stored object for a PATCH, ``None`` for a create."""
    raw = ctx.json_body()
    body = ctx.shapes.check_entity(
        type_name or resource.entity, raw, directory=resource.directory, navigations=navigations
    )
    code = "Request_BadRequest" if resource.directory else "BadRequest"
    for name in list(body.values):
        if name in resource.read_only or (existing is not None and name in resource.create_only):
            current = None if existing is None else existing.get(name)
            # Graph's convention for policies: writing the current value is a no-op.
            if not resource.directory and existing is not None and current == body.values[name]:
                del body.values[name]
                continue
            raise errors.read_only(name, code)
    allowed = set(allow_binds)
    for name in body.binds:
        if name not in allowed:
            raise errors.bad_request(
                f"Binding the navigation property '{name}' is not supported.", code
            )
    if existing is None:
        for name in sorted(resource.required):
            if body.values.get(name) in (None, "", []):
                raise errors.required_missing(name)
    elif existing.get("onPremisesSyncEnabled") is True and set(body.values) & resource.mastered:
        raise errors.synced_object()
    return body


def merge(ctx: Ctx, type_name: str, existing: Body, values: dict[str, Any]) -> dict[str, Any]:
    """The values a PATCH stores: complex properties merge into their current value (so
    ``{"conditions": {"signInRiskLevels": [...]}}`` keeps the other conditions), anything
    else replaces it. Complex values come back complete, as Graph stores them."""
    props = ctx.shapes.props(type_name)
    out: dict[str, Any] = {}
    for name, value in values.items():
        prop = props.get(name)
        current = existing.get(name)
        if (
            prop is not None
            and not prop.type.collection
            and isinstance(value, dict)
            and isinstance(current, dict)
            and value.get("@odata.type", current.get("@odata.type")) == current.get("@odata.type")
        ):
            value = _deep_merge(current, value)
        out[name] = materialize_value(ctx, type_name, name, value)
    return out


def _deep_merge(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def materialize_value(ctx: Ctx, type_name: str, name: str, value: Any) -> Any:
    prop = ctx.shapes.props(type_name).get(name)
    if prop is None:
        return value
    return ctx.shapes.materialize_value(prop.type, value)


def materialize_all(ctx: Ctx, type_name: str, values: dict[str, Any]) -> dict[str, Any]:
    return {name: materialize_value(ctx, type_name, name, v) for name, v in values.items()}
