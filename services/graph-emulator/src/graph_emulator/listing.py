"""Collection reads: filtering, ``$top``, ``$count`` and ``@odata.nextLink`` paging.

Pages walk ids in ascending order and the skiptoken carries the last id returned, so a
client paging through a tenant that changes meanwhile sees every object that existed
throughout exactly once, like Graph's directory paging.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from graph_emulator import errors, paging
from graph_emulator.context import Ctx
from graph_emulator.filters import evaluate, id_values, property_tests
from graph_emulator.http import Response, encode_query
from graph_emulator.ids import is_guid
from graph_emulator.query import check_list_options, check_page_size
from graph_emulator.resources import Resource
from graph_emulator.store import Body, SortedIds
from graph_emulator.views import EXPAND_PAGE

Project = Callable[[Body], dict[str, Any]]

#: Properties whose ``$filter`` Graph documents, and enforces, narrower than a list's
#: usual operators: an application's appId "Supports $filter (eq)" (application.md),
#: where a service principal's takes ``startsWith`` too (serviceprincipal.md).
NARROW_FILTERS: Mapping[tuple[str, str], frozenset[str]] = {
    ("application", "appId"): frozenset({"eq", "in"}),
}


def check_filter_properties(ctx: Ctx, resource: Resource, type_names: Iterable[str]) -> None:
    flt = ctx.query.filter
    if flt is None:
        return
    if "isof" in flt.operators:
        raise errors.unsupported_query("isof is not supported for this request.")
    known: set[str] = set()
    for type_name in type_names:
        known |= set(ctx.shapes.props(type_name))
    for name in flt.properties:
        if name not in known:
            if resource.directory:
                raise errors.unknown_query_property(name)
            raise errors.odata_unknown_select(name, "microsoft.graph." + resource.entity)
    for name, test in property_tests(flt.node):
        allowed = NARROW_FILTERS.get((resource.entity, name))
        if allowed is not None and test not in allowed:
            raise errors.unsupported_filter_clause(name, resource.entity)
    ids = id_values(flt.node)
    if ids is not None and resource.directory and resource.entity != "oAuth2PermissionGrant":
        for value in ids:
            if not is_guid(value):
                raise errors.invalid_object_id(value)


def skiptoken_last(ctx: Ctx, scope: str) -> str | None:
    token = ctx.query.skiptoken
    if token is None:
        return None
    payload = paging.decode(token)
    if payload is None or payload.get("s") != scope or not isinstance(payload.get("l"), str):
        raise errors.bad_request("The specified page token value has expired or is invalid.")
    return str(payload["l"])


def next_link(ctx: Ctx, scope: str, last_id: str) -> str:
    token = paging.encode({"s": scope, "l": last_id})
    params = [(k, v) for k, v in ctx.request.query if k.lower() != "$skiptoken"]
    params.append(("$skiptoken", token))
    return f"{ctx.base}{ctx.request.path}?{encode_query(params)}"


def page(
    ctx: Ctx,
    resource: Resource,
    *,
    order: SortedIds | Iterable[str],
    items: dict[str, Body] | Callable[[str], Body | None],
    project: Project,
    context: str,
    scope: str,
    max_top: int | None = None,
    default_top: int | None = None,
    count_required_header: bool | None = None,
    type_names: Iterable[str] | None = None,
) -> Response:
    """One page of a collection, ``order`` giving ids ascending."""
    query = ctx.query
    directory = resource.directory if count_required_header is None else count_required_header
    check_list_options(query, directory=directory)
    check_page_size(query, max_top or resource.max_top)
    check_filter_properties(ctx, resource, type_names or (resource.entity,))
    lookup = items.get if isinstance(items, dict) else items
    top = query.top or default_top or resource.default_top
    if query.expand:
        top = min(top, EXPAND_PAGE)
    last = skiptoken_last(ctx, scope)
    node = query.filter.node if query.filter else None
    candidates: Iterator[str]
    ids = id_values(node) if node is not None else None
    if ids is not None:
        # GUIDs compare without case; other ids (grants' base64url) are case-sensitive.
        wanted = sorted({i.lower() if is_guid(i) else i for i in ids})
        candidates = iter([i for i in wanted if last is None or i > last])
        node = None
    elif isinstance(order, SortedIds):
        candidates = order.after(last)
    else:
        candidates = iter([i for i in order if last is None or i > last])

    def matching() -> Iterator[Body]:
        for object_id in candidates:
            body = lookup(object_id)
            if body is None or (node is not None and not evaluate(node, body)):
                continue
            yield body

    found = matching()
    values: list[dict[str, Any]] = []
    more = False
    last_body: Body | None = None
    for body in found:
        if len(values) == top:
            more = True
            break
        values.append(project(body))
        last_body = body
    out: dict[str, Any] = {"@odata.context": context}
    if query.count and last is None:
        out["@odata.count"] = len(values) + (1 + sum(1 for _ in found) if more else 0)
    if more and last_body is not None:
        out["@odata.nextLink"] = next_link(ctx, scope, last_body["id"])
    out["value"] = values
    return Response(200, out)


def count(ctx: Ctx, resource: Resource, items: dict[str, Body]) -> Response:
    """``GET /{collection}/$count``: a text/plain number; directory collections need
    ``ConsistencyLevel: eventual``, like ``$count=true``."""
    query = ctx.query
    if resource.directory and not query.eventual:
        raise errors.count_not_supported()
    check_filter_properties(ctx, resource, (resource.entity,))
    node = query.filter.node if query.filter else None
    total = sum(1 for body in items.values() if node is None or evaluate(node, body))
    return Response(200, raw=str(total).encode(), content_type="text/plain;charset=utf-8")
