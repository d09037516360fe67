"""``TenantReader``: a tenant's objects as ``ObjectState``s, read through ``GraphClient``
the way the registry describes each type, page by page.

- ``pages(type)``: every current object with its links, then the recycle bin's (flagged
  deleted), one page at a time with a cursor to resume after it. Nothing is held beyond
  the page in hand, so memory does not grow with the tenant.
- ``get(type, ids)``: specific objects, live or in the recycle bin, in O(N) requests.
- ``delta(type)``: a delta round (first round, or from a stored deltaLink) as pages of
  ``DeltaItem``s; ``latest_delta_link(type)`` starts tracking from now.

A 403 while reading a type raises ``TypeNotReadable`` naming the type; an expired delta
link raises ``DeltaExpired``. How links are read, and why, is in ``tenant.links``.
"""

from __future__ import annotations

import asyncio
import contextlib
from asyncio import Task
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from typing import Any, NoReturn, TypeAlias

from rewind_common.domain.records import ObjectState
from rewind_common.errors import GraphError
from rewind_common.graph.client import BatchResult, GraphClient
from rewind_common.registry import Link, Listing, ObjectType, SoftDelete, get_type
from rewind_common.tenant import plans
from rewind_common.tenant.by_ids import IdReader
from rewind_common.tenant.convert import delta_items, state_of
from rewind_common.tenant.errors import (
    DELETED_ITEMS_REFUSED,
    DeletedItemsNotReadable,
    DeltaExpired,
    TypeNotReadable,
    is_expired_delta,
)
from rewind_common.tenant.links import BatchGetter, LinkReader, raise_for
from rewind_common.tenant.model import Cursor, DeltaPage, StatePage

ACTIVE = "active"
DELETED = "deleted"
#: Parts of a listing whose next pages go out together, in one ``$batch``: what a round
#: holds in memory is that many pages.
PARTS_PER_ROUND = 8

#: Where a read of links resumes: a nextLink, the nextLinks of a listing's parts
#: (``{"parts": {part: nextLink or None}}``), or ``None`` to begin.
LinkPosition: TypeAlias = str | Cursor | None


class TenantReader:
    def __init__(self, graph: GraphClient, *, concurrency: int = 8) -> None:
        self.graph = graph
        self._getter = BatchGetter(graph, concurrency)
        self.links = LinkReader(self._getter)
        self._ids = IdReader(self._getter, self.links)

    # -- whole types -------------------------------------------------------------------

    async def pages(self, type_name: str, cursor: Cursor | None = None) -> AsyncIterator[StatePage]:
        """Every object of a type, current ones then deleted ones, with their links."""
        object_type = get_type(type_name)
        phase = (cursor or {}).get("phase", ACTIVE)
        next_link = (cursor or {}).get("next")
        try:
            if phase == ACTIVE:
                async for page in self._active(object_type, next_link):
                    yield page
                next_link = None
            if plans.deleted_path(object_type) is not None:
                async for page in self.deleted_pages(type_name, next_link):
                    yield page
        except GraphError as exc:
            _reraise(object_type, exc)

    async def states(self, type_name: str) -> AsyncIterator[ObjectState]:
        async for page in self.pages(type_name):
            for state in page.states:
                yield state

    async def deleted_pages(
        self, type_name: str, next_link: str | None = None
    ) -> AsyncIterator[StatePage]:
        """The recycle bin's objects of a type (none for types without soft delete).

        Graph does not expose the links of deleted objects; they are stored without. A
        listing Graph refuses from its start (or forbids at any page) raises
        ``DeletedItemsNotReadable``; a later page that fails otherwise (an expired
        nextLink) raises Graph's error."""
        object_type = get_type(type_name)
        path = plans.deleted_path(object_type)
        if path is None:
            return
        url = next_link or path
        params = None if next_link else plans.deleted_params(object_type)
        started = next_link is not None
        try:
            async for page in self.graph.pages(url, params):
                started = True
                states = [state_of(object_type, raw, deleted=True) for raw in page.items]
                cursor = {"phase": DELETED, "next": page.next_link} if page.next_link else None
                yield StatePage(type_name, states, cursor)
        except GraphError as exc:
            if exc.status == 403 or (exc.status in DELETED_ITEMS_REFUSED and not started):
                raise DeletedItemsNotReadable(type_name, exc) from exc
            _reraise(object_type, exc)

    async def _active(
        self, object_type: ObjectType, next_link: str | None
    ) -> AsyncIterator[StatePage]:
        if object_type.listing is Listing.SINGLETON:
            raw = await self.graph.get(object_type.path)
            yield StatePage(object_type.name, [state_of(object_type, raw, links={})], None)
            return
        if object_type.listing is Listing.PER_PARENT:
            async for page in self._per_parent(object_type, next_link):
                yield page
            return
        expanded = plans.expanded_link(object_type)
        url = next_link or object_type.path
        params = None if next_link else plans.list_params(object_type, expand=expanded)
        async for listed in self.graph.pages(url, params):
            links = await self.links.complete(object_type, listed.items, expanded)
            states = [
                state_of(object_type, raw, links=links[str(raw[object_type.key])])
                for raw in listed.items
            ]
            yield StatePage(object_type.name, states, self._cursor(object_type, listed.next_link))

    async def _per_parent(
        self, object_type: ObjectType, next_link: str | None
    ) -> AsyncIterator[StatePage]:
        """Objects listed under each object of the parent type (app role assignments
        under each service principal), a page of parents at a time."""
        assert object_type.parent is not None
        parent = get_type(object_type.parent)
        url = next_link or parent.path
        params = None if next_link else {"$select": parent.key, "$top": str(plans.PARENT_PAGE)}
        async for page in self.graph.pages(url, params):
            parent_ids = [str(raw[parent.key]) for raw in page.items]
            urls = [object_type.path.replace("{parentId}", pid) for pid in parent_ids]
            results = await self._getter.get_all(urls)
            states: list[ObjectState] = []
            for sub_url, result in zip(urls, results, strict=True):
                if result.status == 404:
                    continue  # the parent went away since it was listed
                if not result.ok:
                    raise_for(object_type, result, sub_url)
                body = result.body if isinstance(result.body, dict) else {}
                for raw in await self._getter.rest_of(body):
                    states.append(state_of(object_type, raw, links={}))
            yield StatePage(object_type.name, states, self._cursor(object_type, page.next_link))

    async def link_pages(
        self, type_name: str, link_name: str, position: LinkPosition = None
    ) -> AsyncGenerator[tuple[dict[str, list[str]], LinkPosition], None]:
        """One link of every current object of a type, a page at a time: the link is
        expanded on an id-only listing, and read in full where Graph may have cut it.
        Yields each page's ``{object id: target ids}`` and where the read resumes after
        it (``None`` once it is over).

        A type listed in parts (``plans.list_parts``) is read a round at a time: the
        next pages of several unfinished parts, together in one ``$batch``. Its
        position names each unfinished part's nextLink (``None``: not begun); a part
        moves on only once its page has been handed over. A position that is a plain
        nextLink resumes a listing read whole."""
        object_type = get_type(type_name)
        link = object_type.link(link_name)
        parts = plans.list_parts(type_name)
        try:
            if isinstance(position, str) or not parts:
                whole = position if isinstance(position, str) else None
                async for targets, next_link in self._link_part(object_type, link, whole):
                    yield targets, next_link
                return
            remaining: dict[str, str | None] = (
                dict(position["parts"]) if position else dict.fromkeys(parts)
            )
            rounds = self._link_rounds(object_type, link, parts, dict(remaining))
            async with contextlib.aclosing(rounds) as pages:
                async for part, targets, next_link in pages:
                    if next_link is None:
                        del remaining[part]
                    else:
                        remaining[part] = next_link
                    yield targets, {"parts": dict(remaining)} if remaining else None
        except GraphError as exc:
            _reraise(object_type, exc)

    async def _link_rounds(
        self,
        object_type: ObjectType,
        link: Link,
        parts: Mapping[str, str],
        positions: dict[str, str | None],
    ) -> AsyncGenerator[tuple[str, dict[str, list[str]], str | None], None]:
        """The pages of a listing's parts, a round at a time: the next page of up to
        ``PARTS_PER_ROUND`` unfinished parts, in one ``$batch`` (a few round trips instead
        of one per page of each part). The next round is on its way while this one's
        pages are handed over, so two rounds at most are held."""
        params = plans.link_list_params(object_type, link)
        pending = dict(positions)  # each unfinished part's nextLink (None: not begun)

        def send() -> tuple[list[str], list[str], Task[list[BatchResult]]] | None:
            parts_now = list(pending)[:PARTS_PER_ROUND]
            if not parts_now:
                return None
            urls = [
                self.graph.relative(
                    pending[part]
                    or self.graph.url(object_type.path, {**params, "$filter": parts[part]})
                )
                for part in parts_now
            ]
            return parts_now, urls, asyncio.create_task(self._getter.get_all(urls))

        sent = send()
        try:
            while sent is not None:
                parts_now, urls, answers = sent
                results = await answers
                sent = None
                if len(results) != len(urls):
                    raise GraphError(
                        f"Graph answered {len(results)} of {len(urls)} batched requests",
                        status=200,
                        graph_code="incompleteBatch",
                    )
                pages: list[tuple[str, list[Any], str | None]] = []
                for part, url, result in zip(parts_now, urls, results, strict=True):
                    if not result.ok:
                        raise_for(object_type, result, url)
                    body = result.body if isinstance(result.body, dict) else {}
                    following = body.get("@odata.nextLink")
                    next_link = str(following) if following else None
                    pages.append((part, list(body.get("value") or []), next_link))
                    if next_link is None:
                        del pending[part]
                    else:
                        pending[part] = next_link
                sent = send()
                for part, items, following in pages:
                    links = await self.links.complete(object_type, items, link, [link])
                    targets = {i: found.get(link.name, []) for i, found in links.items()}
                    yield part, targets, following
        finally:
            if sent is not None:
                sent[2].cancel()
                await asyncio.gather(sent[2], return_exceptions=True)

    async def _link_part(
        self, object_type: ObjectType, link: Link, next_link: str | None
    ) -> AsyncIterator[tuple[dict[str, list[str]], str | None]]:
        params = None if next_link else plans.link_list_params(object_type, link)
        async for page in self.graph.pages(next_link or object_type.path, params):
            links = await self.links.complete(object_type, page.items, link, [link])
            yield {i: found.get(link.name, []) for i, found in links.items()}, page.next_link

    @staticmethod
    def _cursor(object_type: ObjectType, next_link: str | None) -> Cursor | None:
        if next_link:
            return {"phase": ACTIVE, "next": next_link}
        if object_type.soft_delete is not SoftDelete.NONE:
            return {"phase": DELETED, "next": None}
        return None

    # -- specific objects --------------------------------------------------------------

    async def get(
        self,
        type_name: str,
        object_ids: Iterable[str],
        *,
        parents: Mapping[str, str] | None = None,
    ) -> dict[str, ObjectState]:
        """The objects of ``object_ids`` that exist, live or deleted, with their links.

        Costs O(N) requests: ids are read 20 to a ``$batch``. App role assignments are
        read under their resource service principal: ``parents`` maps assignment ids to
        it; an id without one is looked for under the principal its id begins with."""
        object_type = get_type(type_name)
        try:
            return await self._ids.get(object_type, list(object_ids), parents or {})
        except GraphError as exc:
            _reraise(object_type, exc)

    async def deleted(self, type_name: str, object_ids: Iterable[str]) -> dict[str, ObjectState]:
        """Objects of ``object_ids`` found in the recycle bin."""
        object_type = get_type(type_name)
        try:
            return await self._ids.deleted(object_type, list(object_ids))
        except GraphError as exc:
            _reraise(object_type, exc)

    # -- delta ---------------------------------------------------------------------------

    async def delta(self, type_name: str, link: str | None = None) -> AsyncIterator[DeltaPage]:
        """A delta round: the first one (every current object, links as additions) when
        ``link`` is None, else the changes since the round that returned ``link`` (a
        deltaLink, or a nextLink to resume a round)."""
        object_type = get_type(type_name)
        if object_type.delta_path is None:
            raise ValueError(f"Graph offers no delta query for {type_name}")
        params = None if link else plans.delta_params(object_type)
        try:
            async for page in self.graph.pages(link or object_type.delta_path, params):
                yield DeltaPage(
                    type=type_name,
                    items=delta_items(
                        object_type,
                        (raw for raw in page.items if plans.in_delta_of(object_type, raw)),
                    ),
                    next_link=page.next_link,
                    delta_link=page.delta_link,
                )
        except GraphError as exc:
            if link is not None and is_expired_delta(exc):
                raise DeltaExpired(type_name, exc) from exc
            _reraise(object_type, exc)

    async def latest_delta_link(self, type_name: str) -> str:
        """A deltaLink from now (``$deltatoken=latest``): later rounds return only what
        changes from this moment, without reading the current objects."""
        object_type = get_type(type_name)
        if object_type.delta_path is None:
            raise ValueError(f"Graph offers no delta query for {type_name}")
        params = {**plans.delta_params(object_type), "$deltatoken": "latest"}
        try:
            async for page in self.graph.pages(object_type.delta_path, params):
                if page.delta_link:
                    return page.delta_link
        except GraphError as exc:
            _reraise(object_type, exc)
        raise GraphError(
            f"Graph returned no deltaLink for {type_name}", status=200, graph_code="noDeltaLink"
        )


def _reraise(object_type: ObjectType, exc: GraphError) -> NoReturn:
    """A 403 means these credentials may not read the type: say which type."""
    if exc.status == 403:
        raise TypeNotReadable(object_type.name, exc) from exc
    raise exc
