"""Whether the references a recovery would write resolve, answered in batches.

``domain.diff.diff_object`` asks a ``ReferenceResolver`` one reference at a time. The
differ first diffs a batch of objects with a resolver that only records the questions
(answering "no", so every question is asked), answers them all at once, then diffs the
batch again with the answers: a few batched reads per batch instead of one request per
reference.

- *exists live*: the object is in the tenant now (read by id, or by alternate key such as
  ``servicePrincipals(appId='…')``, 20 to a ``$batch``), or, when the report compares
  two snapshots, in the later snapshot;
- *will exist*: a recovery from this report would bring it back: it is in the report's
  scope and active in the backup. Objects outside the scope are never brought back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from rewind_common.domain.scope import Scope
from rewind_common.graph.client import GraphClient
from rewind_common.registry import Listing, get_type
from rewind_common.storage.manifest import Segment
from rewind_common.storage.snapshot_reader import SnapshotReader
from rewind_common.storage.snapshots import SnapshotStore
from rewind_common.tenant.links import BatchGetter, raise_for

#: A question: is there an object of this type whose ``by`` property is this value?
Query = tuple[str, str, str]

#: Answers the queries it can: returns those whose object exists.
ExistenceCheck = Callable[[set[Query]], Awaitable[set[Query]]]


@dataclass
class RecordingResolver:
    """Collects every question ``diff_object`` asks; answers no to all of them."""

    live: set[Query] = field(default_factory=set)
    planned: set[Query] = field(default_factory=set)

    def exists_live(self, type: str, value: str, by: str) -> bool:
        self.live.add((type, by, value))
        return False

    def will_exist(self, type: str, value: str, by: str) -> bool:
        self.planned.add((type, by, value))
        return False

    def __bool__(self) -> bool:
        return bool(self.live or self.planned)


@dataclass(frozen=True)
class Answers:
    """The answers, as a ``ReferenceResolver``; anything not asked before is a no."""

    live: frozenset[Query]
    planned: frozenset[Query]

    def exists_live(self, type: str, value: str, by: str) -> bool:
        return (type, by, value) in self.live

    def will_exist(self, type: str, value: str, by: str) -> bool:
        return (type, by, value) in self.planned


class GraphExistence:
    """Existence in the live tenant, read by id or alternate key; answers are kept for
    the step (a referenced group is usually referenced many times)."""

    def __init__(self, graph: GraphClient, concurrency: int) -> None:
        self._getter = BatchGetter(graph, concurrency)
        self._known: dict[Query, bool] = {}

    async def __call__(self, queries: set[Query]) -> set[Query]:
        ask = sorted(q for q in queries if q not in self._known)
        urls: list[tuple[Query, str]] = []
        for query in ask:
            url = _item_url(*query)
            if url is None:
                self._known[query] = False
            else:
                urls.append((query, url))
        results = await self._getter.get_all([url for _, url in urls])
        for (query, url), result in zip(urls, results, strict=True):
            if result.ok:
                self._known[query] = True
            elif result.status in (400, 404):
                self._known[query] = False
            else:
                raise_for(get_type(query[0]), result, url)
        return {q for q in queries if self._known.get(q)}


def _item_url(type_name: str, by: str, value: str) -> str | None:
    object_type = get_type(type_name)
    if object_type.listing is not Listing.COLLECTION:
        return None
    if by == object_type.key:
        return f"{object_type.path}/{value}?$select=id"
    quoted = value.replace("'", "''")
    return f"{object_type.path}({by}='{quoted}')?$select=id"


class SnapshotExistence:
    """Existence (active, not in a recycle bin) in a snapshot, optionally limited to a
    scope. By id it reads the manifest entries asked for; by another property it reads
    the in-scope objects of the type (every object of it when the whole type is in scope,
    which only happens in a report that reads that whole type anyway)."""

    def __init__(self, store: SnapshotStore, chain: list[Segment], scope: Scope | None) -> None:
        self._store = store
        self._reader = SnapshotReader(store)
        self._chain = chain
        self._scope = scope
        self._values: dict[tuple[str, str], set[str]] = {}

    async def __call__(self, queries: set[Query]) -> set[Query]:
        found: set[Query] = set()
        by_id: dict[str, list[str]] = {}
        for type_name, by, value in queries:
            if self._scope is not None and not self._scope.includes_type(type_name):
                continue
            if by == get_type(type_name).key:
                if self._scope is None or self._scope.includes(type_name, value):
                    by_id.setdefault(type_name, []).append(value)
            elif value.casefold() in await self._index(type_name, by):
                found.add((type_name, by, value))
        for type_name, ids in by_id.items():
            entries = await self._store.manifests.get_entries(self._chain, type_name, ids)
            key = get_type(type_name).key
            found.update(
                (type_name, key, object_id)
                for object_id, entry in entries.items()
                if not entry.deleted
            )
        return found

    async def _index(self, type_name: str, by: str) -> set[str]:
        cached = self._values.get((type_name, by))
        if cached is not None:
            return cached
        values: set[str] = set()
        ids = self._scope.ids(type_name) if self._scope is not None else None
        if ids is None:
            async for state in self._reader.states(self._chain, type_name):
                _collect(values, state.deleted, state.body.get(by))
        else:
            for state in (await self._reader.get(self._chain, type_name, sorted(ids))).values():
                _collect(values, state.deleted, state.body.get(by))
        self._values[(type_name, by)] = values
        return values


def _collect(values: set[str], deleted: bool, value: object) -> None:
    # Graph matches alternate keys such as appId case-insensitively.
    if not deleted and isinstance(value, str):
        values.add(value.casefold())


class ReferenceChecker:
    """Answers a recorded batch of questions with one check per side."""

    def __init__(self, live: ExistenceCheck, planned: ExistenceCheck) -> None:
        self._live = live
        self._planned = planned

    async def answer(self, recorded: RecordingResolver) -> Answers:
        live = await self._live(set(recorded.live)) if recorded.live else set()
        planned = await self._planned(set(recorded.planned)) if recorded.planned else set()
        return Answers(frozenset(live), frozenset(planned))
