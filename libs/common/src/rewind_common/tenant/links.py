"""Reading links (group members and owners, application and service principal owners, a
user's manager) the cheapest way Graph allows.

Choices, with the Graph documentation behind each:

1. **Delta tracks some links.** ``$select=manager`` on ``/users/delta`` and
   ``$select=members`` on ``/groups/delta`` report changes as ``manager@delta`` and
   ``members@delta`` (concepts/delta-query-overview.md: "$select also supports manager
   and members navigation properties for users and groups respectively. Selecting those
   properties allows tracking of changes to user's manager and group memberships").
   Groups also track owners: "You can additionally track other changes like ownership
   ... by selecting any group relationship of type directoryObject collection. Only the
   id property of the related resource is returned" (api-reference/v1.0/api/
   group-delta.md, 2024-10-22). The first round lists every current target as an
   addition; later rounds list additions and ``@removed`` removals. So a snapshot reads
   users and groups with their links in one delta pass, and an incremental snapshot
   pays only for what changed. Nothing documents ``owners`` in the delta of
   applications or service principals: their owners are read by listing (below), every
   snapshot; both types are small next to users and groups.
2. **``$expand`` on a listing** returns a relationship inline, but for directory objects
   "Returns a maximum of 20 objects ... No support for @odata.nextLink" (Graph known
   issue 13635, "Some limitations apply to query parameters"), only one relationship can
   be expanded per request ("Only one relationship can be expanded in a single request",
   concepts/query-parameters.md, microsoft-graph-docs issue 16186; for users "still
   limited to a single expanded navigation", issue 96), and such lists are paged at 100.
   A listing expands its type's first link with ``($select=id)``; an expanded list
   holding exactly 20 ids may be cut short, so that object's link is read again in full.
   Pages of a listing come one after another, each naming the next; the service
   principals' listing is read in 16 parts, filtered on their appId's first digit
   (``plans.list_parts``), the next pages of 8 parts in one ``$batch``, so its
   thousands of owner sets take a few round trips.
3. **Per-object reads** (``GET /groups/{id}/owners?$select=id&$top=999``, following
   nextLinks; ``GET /users/{id}/manager?$select=id``, 404 meaning none) fill in the
   rest, 20 to a ``$batch`` (concepts/json-batching.md), a bounded number of batches at
   a time. Scoped reads of N objects therefore cost O(N) requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rewind_common.errors import GraphError
from rewind_common.graph.client import BATCH_LIMIT, BatchRequest, BatchResult, GraphClient
from rewind_common.registry import Link, ObjectType
from rewind_common.tenant.convert import ids_of
from rewind_common.tenant.errors import TypeNotReadable, is_forbidden
from rewind_common.tenant.plans import EXPAND_ITEMS, link_path


def graph_error_of(result: BatchResult, url: str) -> GraphError:
    """A failed sub-response as Graph's error."""
    body: dict[str, Any] = result.body if isinstance(result.body, dict) else {}
    found = body.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    return GraphError(
        str(error.get("message") or f"Graph answered {result.status} to GET {url}"),
        status=result.status,
        graph_code=str(error.get("code") or "unknownError"),
    )


def raise_for(object_type: ObjectType, result: BatchResult, url: str) -> None:
    """Turn a failed sub-response into the error the caller expects."""
    graph_error = graph_error_of(result, url)
    if is_forbidden(graph_error):
        raise TypeNotReadable(object_type.name, graph_error)
    raise graph_error


class BatchGetter:
    """GETs many URLs through ``$batch``, at most ``concurrency`` batches in flight."""

    def __init__(self, graph: GraphClient, concurrency: int) -> None:
        self.graph = graph
        self._semaphore = asyncio.Semaphore(max(concurrency, 1))

    async def get_all(self, urls: Sequence[str]) -> list[BatchResult]:
        chunks = [urls[i : i + BATCH_LIMIT] for i in range(0, len(urls), BATCH_LIMIT)]
        answers = await asyncio.gather(*(self._one_batch(chunk) for chunk in chunks))
        return [result for answer in answers for result in answer]

    async def _one_batch(self, urls: Sequence[str]) -> list[BatchResult]:
        requests = [BatchRequest(id=str(i), method="GET", url=url) for i, url in enumerate(urls)]
        async with self._semaphore:
            results = await self.graph.batch(requests)
        by_id = {result.id: result for result in results}
        return [by_id[str(i)] for i in range(len(urls)) if str(i) in by_id]

    async def rest_of(self, first_page: Mapping[str, Any]) -> list[Any]:
        """Every item of a collection whose first page came in a batch."""
        items = list(first_page.get("value") or [])
        next_link = first_page.get("@odata.nextLink")
        if next_link:
            async with self._semaphore:
                async for page in self.graph.pages(str(next_link)):
                    items.extend(page.items)
        return items


class LinkReader:
    def __init__(self, getter: BatchGetter) -> None:
        self._getter = getter

    async def targets(
        self, object_type: ObjectType, link: Link, object_ids: Iterable[str]
    ) -> dict[str, list[str]]:
        """The ids ``link`` points at, for each object (objects not found: no ids)."""
        ids = list(dict.fromkeys(object_ids))
        urls = [link_path(object_type, object_id, link) for object_id in ids]
        results = await self._getter.get_all(urls)
        found: dict[str, list[str]] = {object_id: [] for object_id in ids}
        for object_id, url, result in zip(ids, urls, results, strict=True):
            if result.status == 404:
                continue
            if not result.ok:
                raise_for(object_type, result, url)
            body = result.body if isinstance(result.body, dict) else {}
            if link.many:
                found[object_id] = ids_of(await self._getter.rest_of(body))
            elif body.get("id"):
                found[object_id] = [str(body["id"])]
        return found

    async def complete(
        self,
        object_type: ObjectType,
        raws: Sequence[Mapping[str, Any]],
        expanded: Link | None,
        wanted: Sequence[Link] | None = None,
    ) -> dict[str, dict[str, list[str]]]:
        """The links (all of the type's, or ``wanted``) of every object of a listed page:
        the expanded one from the bodies (read again when Graph may have cut it at 20),
        the others read per object."""
        ids = [str(raw[object_type.key]) for raw in raws]
        links: dict[str, dict[str, list[str]]] = {object_id: {} for object_id in ids}
        pending: list[tuple[Link, list[str]]] = []
        for link in object_type.links if wanted is None else wanted:
            if link is expanded:
                truncated = []
                for raw in raws:
                    object_id = str(raw[object_type.key])
                    targets = ids_of(raw.get(link.navigation))
                    links[object_id][link.name] = targets
                    if link.many and len(targets) >= EXPAND_ITEMS:
                        truncated.append(object_id)
                if truncated:
                    pending.append((link, truncated))
            else:
                pending.append((link, ids))
        answers = await asyncio.gather(
            *(self.targets(object_type, link, subset) for link, subset in pending)
        )
        for (link, _), answer in zip(pending, answers, strict=True):
            for object_id, targets in answer.items():
                links[object_id][link.name] = targets
        return links
