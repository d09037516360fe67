"""``GET /directoryObjects/delta``: one delta round over several directory object types.

Behaviour from directoryobject-delta.md (v1.0):

- ``$filter`` names the types, ``isof('microsoft.graph.<type>')`` joined by ``or``, for
  application, administrativeUnit, appRoleAssignment, device, directoryRole, group,
  orgContact, servicePrincipal and user. The emulator holds no administrative units,
  devices, directory roles or contacts: those types are accepted and return nothing.
- App role assignments are tracked only together with users, and the round returns
  both: ``isof('microsoft.graph.appRoleAssignment') or isof('microsoft.graph.user')``
  (the page's request form; the note once on it said "at minimum both the
  appRoleAssignment and user resources must be specified").
- ``id eq '…'`` terms (at most 50) track those objects; with ``isof`` terms too, the
  objects of those types among them. They are not supported with app role assignments.
- A request without ``$filter``, or with any other expression, is refused.
- Every item carries ``@odata.type`` (removals too: one round mixes types).
- ``$select`` names properties qualified by type (``microsoft.graph.user/surname``) or
  plain (every named type that has the property); a type none of whose properties are
  named returns ids only.
- Pages, ``$deltatoken=latest``, ``@removed`` and unknown or expired tokens as the
  per-type delta functions (``delta.py``).

An app role assignment is listed while its principal and its resource are active. One
leaving the directory is reported ``@removed``: ``deleted`` once it, its principal or its
resource is gone for good; ``changed`` while its principal or resource is in the recycle
bin, whose restore brings the assignment back in a later round.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graph_emulator import errors, paging
from graph_emulator.context import Ctx
from graph_emulator.delta import (
    LINKS,
    Round,
    check_options,
    decode_round,
    delta_item,
    delta_response,
    filtered_ids,
)
from graph_emulator.filters import BoolOp, Compare, In, IsOf, Node
from graph_emulator.http import Response
from graph_emulator.resources import (
    APP_ROLE_ASSIGNMENT,
    APPLICATION,
    GROUP,
    SERVICE_PRINCIPAL,
    USER,
    Resource,
)
from graph_emulator.router import Router
from graph_emulator.store import Body

KIND = "directoryObject"
COLLECTION = "directoryObjects"
ASSIGNMENT = "appRoleAssignment"
#: Types the emulator stores, by the name ``isof`` uses.
STORED: dict[str, Resource] = {
    "user": USER,
    "group": GROUP,
    "application": APPLICATION,
    "servicePrincipal": SERVICE_PRINCIPAL,
    ASSIGNMENT: APP_ROLE_ASSIGNMENT,
}
#: Every type the delta function accepts (its Permissions table).
TYPES = (
    "application", "administrativeUnit", "appRoleAssignment", "device", "directoryRole",
    "group", "orgContact", "servicePrincipal", "user",
)  # fmt: skip
_BY_LOWER = {name.lower(): name for name in TYPES}
_NAMESPACE = "microsoft.graph."


def _or_terms(node: Node) -> list[Node]:
    if isinstance(node, BoolOp) and node.op == "or":
        return _or_terms(node.left) + _or_terms(node.right)
    return [node]


def _type_name(written: str) -> str:
    name = written.lstrip("#")
    if name.lower().startswith(_NAMESPACE):
        found = _BY_LOWER.get(name[len(_NAMESPACE) :].lower())
        if found is not None:
            return found
    raise errors.unsupported_query(
        f"The type '{written}' is not supported with directoryObjects delta; use one of "
        + ", ".join(f"'{_NAMESPACE}{t}'" for t in TYPES)
        + "."
    )


def _parse_filter(ctx: Ctx) -> tuple[list[str], list[str] | None]:
    """The types and ids a round tracks: ids are None unless ``id eq`` terms are given."""
    flt = ctx.query.filter
    if flt is None:
        raise errors.unsupported_query(
            "directoryObjects delta needs $filter naming the types to track, for example "
            "$filter=isof('microsoft.graph.user') or isof('microsoft.graph.group')."
        )
    types: list[str] = []
    ids: list[str] = []
    for term in _or_terms(flt.node):
        if isinstance(term, IsOf):
            types.append(_type_name(term.type_name))
        elif isinstance(term, Compare) and term.op == "eq" and term.path.parts == ("id",):
            ids.append(str(term.value))
        elif isinstance(term, In) and term.path.parts == ("id",):
            ids.extend(str(v) for v in term.values)
        else:
            raise errors.unsupported_query(
                "Only isof('microsoft.graph.<type>') and id eq '<id>' expressions joined by "
                "'or' are supported with directoryObjects delta."
            )
    types = list(dict.fromkeys(types))
    if ASSIGNMENT in types and "user" not in types:
        raise errors.unsupported_query(
            "Tracking appRoleAssignment needs the user type too: "
            "$filter=isof('microsoft.graph.appRoleAssignment') or isof('microsoft.graph.user')."
        )
    if not ids:
        return types, None
    if ASSIGNMENT in types:
        raise errors.unsupported_query(
            "Filtering by id is not supported for the appRoleAssignment resource."
        )
    return types or [t for t in STORED if t != ASSIGNMENT], filtered_ids(ids, guids=True)


def _parse_select(ctx: Ctx, types: list[str]) -> dict[str, list[str]] | None:
    select = ctx.query.select
    if select is None:
        return None
    chosen: dict[str, list[str]] = {t: [] for t in types}
    for entry in select:
        qualifier, _, name = entry.rpartition("/")
        targets = [_type_name(qualifier)] if qualifier else types
        if any(t not in chosen for t in targets):
            raise errors.unknown_query_property(entry)
        stored = [t for t in targets if t in STORED]
        having = [t for t in stored if _known(ctx, t, name)]
        if stored and not having:
            raise errors.unknown_query_property(entry)
        for type_name in having:
            chosen[type_name].append(name)
    return chosen


def _known(ctx: Ctx, type_name: str, name: str) -> bool:
    return name in ctx.shapes.props(STORED[type_name].entity) or name in LINKS[type_name]


def _start(ctx: Ctx) -> dict[str, Any]:
    check_options(ctx)
    types, ids = _parse_filter(ctx)
    return {
        "k": KIND,
        "e": ctx.tenant.epoch,
        "t": types,
        "s": _parse_select(ctx, types),
        "f": ids,
    }


def _visible(ctx: Ctx, kind: str, body: Body) -> bool:
    return kind != ASSIGNMENT or ctx.tenant.assignment_visible(body)


def _item(ctx: Ctx, state: Round, kind: str, body: Body, since: int | None) -> dict[str, Any]:
    select = state.data.get("s")
    view = Round({"s": select.get(kind, []) if isinstance(select, dict) else None})
    out: dict[str, Any] = {"@odata.type": f"#microsoft.graph.{kind}"}
    out.update(delta_item(ctx, kind, STORED[kind], body, view, since))
    return out


def _removed(kind: str, object_id: str, reason: str) -> dict[str, Any]:
    return {
        "@odata.type": f"#microsoft.graph.{kind}",
        "id": object_id,
        "@removed": {"reason": reason},
    }


def handler(ctx: Ctx) -> Response:
    query = ctx.query
    if query.skiptoken is not None:
        state = decode_round(ctx, KIND, query.skiptoken)
    elif query.deltatoken is not None:
        if query.deltatoken == "latest":
            data = _start(ctx)
            data.update({"m": "c", "a": ctx.tenant.seq})
            return delta_response(
                ctx, COLLECTION, Round(data), [], next_token=None, delta_token=paging.encode(data)
            )
        state = decode_round(ctx, KIND, query.deltatoken)
        if state.data.get("m") != "c":
            raise errors.sync_state_not_found()
        state.data.update({"u": ctx.tenant.seq, "p": None})
    else:
        data = _start(ctx)
        data.update({"m": "i", "u": ctx.tenant.seq, "i": 0, "l": None})
        state = Round(data)
    if state.data.get("m") == "i":
        return _initial_page(ctx, state)
    return _changes_page(ctx, state)


def _current(ctx: Ctx, state: Round) -> Iterator[tuple[int, str, str, Body]]:
    """The round's current objects from where the last page stopped: (type index, type,
    id, body), types in the filter's order, ids ascending within each."""
    types: list[str] = state.data["t"]
    ids = state.ids
    start = int(state.data.get("i") or 0)
    for index in range(start, len(types)):
        kind = types[index]
        if kind not in STORED:
            continue
        last = state.data.get("l") if index == start else None
        collection = ctx.tenant.collections[kind]
        if ids is not None:
            candidates: Iterator[str] = iter(sorted(i for i in ids if last is None or i > last))
        else:
            candidates = collection.order.after(last)
        for object_id in candidates:
            body = collection.items.get(object_id)
            if body is not None and _visible(ctx, kind, body):
                yield index, kind, object_id, body


def _initial_page(ctx: Ctx, state: Round) -> Response:
    size = ctx.config.delta_page_size
    values: list[dict[str, Any]] = []
    position: tuple[int, str] | None = None
    for index, kind, object_id, body in _current(ctx, state):
        if len(values) == size:
            assert position is not None
            token = paging.encode({**state.data, "i": position[0], "l": position[1]})
            return delta_response(
                ctx, COLLECTION, state, values, next_token=token, delta_token=None
            )
        values.append(_item(ctx, state, kind, body, None))
        position = (index, object_id)
    done = {k: v for k, v in state.data.items() if k not in ("i", "l", "u")}
    done.update({"m": "c", "a": state.data["u"]})
    return delta_response(
        ctx, COLLECTION, state, values, next_token=None, delta_token=paging.encode(done)
    )


def _changes_page(ctx: Ctx, state: Round) -> Response:
    since = int(state.data["a"])
    upto = int(state.data["u"])
    position = state.data.get("p")
    # pages follow the sequence of changes, so an object changed again meanwhile
    # (and left to the next round) moves no other into a page already read
    after: tuple[int, str, str] | None = None
    if position is not None:
        after = (int(position[0]), str(position[1]), str(position[2]))
    size = ctx.config.delta_page_size
    tenant = ctx.tenant
    ids = state.ids
    changed: list[tuple[int, str, str]] = []
    for kind in state.data["t"]:
        if kind in STORED:
            found = tenant.changes[kind].since(since if after is None else after[0] - 1, upto)
            changed += [(seq, kind, i) for seq, i in found if ids is None or i in ids]
    changed = sorted(e for e in changed if after is None or e > after)
    window = changed[:size]
    values: list[dict[str, Any]] = []
    for _, kind, object_id in window:
        collection = tenant.collections[kind]
        body = collection.items.get(object_id)
        if body is not None and _visible(ctx, kind, body):
            values.append(_item(ctx, state, kind, body, since))
        elif body is not None or object_id in collection.deleted:
            values.append(_removed(kind, object_id, "changed"))
        elif object_id in tenant.changes[kind].purged:
            values.append(_removed(kind, object_id, "deleted"))
    if len(changed) > size:
        token = paging.encode({**state.data, "p": list(window[-1])})
        return delta_response(ctx, COLLECTION, state, values, next_token=token, delta_token=None)
    done = {k: v for k, v in state.data.items() if k not in ("p", "u")}
    done["a"] = upto
    return delta_response(
        ctx, COLLECTION, state, values, next_token=None, delta_token=paging.encode(done)
    )


def register(router: Router) -> None:
    router.add("GET", f"/{COLLECTION}/delta", handler)
