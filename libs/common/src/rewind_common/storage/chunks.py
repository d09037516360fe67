"""Sealed manifest chunks: written once per segment and type in id order, then read as
sorted streams or looked up by id.

A chunk's ``_id`` is ``{segment}|{type}|{first object id}``. Readers first fetch the
chunk headers of a segment's type (first and last id, count: a few hundred small
documents for 100,000 objects) and then exactly the chunks they need, so a lookup of N
ids reads O(N) chunks whatever the tenant's size, and a stream holds one chunk at a time.
Sealed segments never change, which makes both headers and chunks safe to cache.
"""

from __future__ import annotations

import asyncio
import bisect
import re
from array import array
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

import orjson
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from rewind_common.errors import DependencyUnavailable
from rewind_common.storage.chunk_cache import ChunkCache
from rewind_common.storage.chunk_headers import ChunkHeader, ChunkHeaders
from rewind_common.storage.inserts import insert_ignoring_duplicates
from rewind_common.storage.manifest import (
    CHUNK_ENTRIES,
    ManifestEntry,
    RowCounts,
    chunk_counts,
    chunk_document,
    chunk_ids,
    chunk_leaf_digests,
    chunk_rows,
    chunk_stored_bytes,
)
from rewind_common.storage.mongo import Document, unavailable

_FETCH_BATCH = 8
_ROW_ID = itemgetter(0)
#: Between two rows of a chunk's JSON (see ``LoadedChunk.find``).
_ROW_BOUNDARY = re.compile(rb'\],\["')
#: Bytes of chunks a store keeps for lookups, as stored, unless told otherwise: about 30
#: chunks of users. Streams keep nothing they read, so memory stays flat however large
#: the tenant (see ``ChunkStore`` for when more is worth it).
DEFAULT_CACHE_BYTES = 4 * 1024 * 1024


class ChunksWritten(NamedTuple):
    #: Entries not stored before.
    entries: int
    #: Bytes of the chunks written, stored before or not.
    bytes: int


#: Memory ``LoadedChunk.find`` keeps per entry: the id (a 36-character string, about 85
#: bytes, and its place in a list) and where the row starts.
_MEMO_BYTES_PER_ENTRY = 100


@dataclass(frozen=True)
class LoadedChunk:
    """A chunk as read, undecoded: its entries' rows and, when stored, their Merkle
    leaves, ids and counts (see ``manifest.chunk_document``)."""

    type: str
    document: Document
    #: What reading the chunk worked out once (its ids, where each row starts).
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        """What keeping the chunk costs: the bytes it holds, and what finding rows in it
        works out once (each entry's id as a string and where its row starts)."""
        entries = int(self.document.get("n", 0))
        return chunk_stored_bytes(self.document) + _MEMO_BYTES_PER_ENTRY * entries

    @property
    def last(self) -> str:
        return str(self.document.get("hi") or self.document["o"])

    def rows(self) -> list[Any]:
        return chunk_rows(self.document)

    def digests(self) -> list[bytes] | None:
        return chunk_leaf_digests(self.document)

    def leaves(self) -> bytes | None:
        """The Merkle leaves of the entries, end to end (32 bytes each), when stored."""
        packed = self.document.get("lh")
        return bytes(packed) if isinstance(packed, bytes) else None

    def ids(self) -> list[str] | None:
        """The entries' ids in order, when stored: a list of the caller's own."""
        ids = self._ids()
        return list(ids) if ids is not None else None

    def _ids(self) -> list[str] | None:
        if "ids" not in self._memo:
            self._memo["ids"] = chunk_ids(self.document)
        ids: list[str] | None = self._memo["ids"]
        return ids

    def counts(self) -> RowCounts | None:
        return chunk_counts(self.document)

    def find(self, object_ids: Iterable[str]) -> list[Any]:
        """The rows of ``object_ids``, decoding only those.

        Rows are written by orjson as ``[["id",…],["id",…]]``, without whitespace and
        without arrays inside a row: a row starts with ``["`` right after the previous
        one's ``],`` and ``],["`` occurs nowhere else, unless inside a string (a display
        name ending in ``],[``). Where the chunk lists its ids and the rows split into
        as many, the i-th row is the i-th id's; otherwise the chunk is read whole."""
        blob = self.document.get("e")
        starts = self._row_starts(blob) if type(blob) is bytes else None
        ids = self._ids()
        if starts is None or ids is None or type(blob) is not bytes:
            wanted = set(object_ids)
            return [row for row in self.rows() if row[0] in wanted]
        found = []
        last = len(ids) - 1
        for object_id in object_ids:
            at = bisect.bisect_left(ids, object_id)
            if at > last or ids[at] != object_id:
                continue
            end = starts[at + 1] - 1 if at < last else len(blob) - 1
            found.append(orjson.loads(blob[starts[at] : end]))
        return found

    def _row_starts(self, blob: bytes) -> array[int] | None:
        """Where each row of the blob starts, when the rows are the chunk's ids."""
        if "starts" not in self._memo:
            ids = self._ids()
            starts: array[int] | None = None
            if ids is not None and blob.startswith(b'[["'):
                starts = array("L", [1])
                starts.extend(match.start() + 2 for match in _ROW_BOUNDARY.finditer(blob))
                if len(starts) != len(ids):
                    starts = None
            self._memo["starts"] = starts
        cached: array[int] | None = self._memo["starts"]
        return cached


def chunk_id(segment: str, type_name: str, first: str) -> str:
    return f"{segment}|{type_name}|{first}"


class ChunkStore:
    """Manifest chunks: written sorted, read by id range or looked up by object id.

    Chunks are immutable, so a store keeps those its lookups read, up to
    ``cache_bytes``. An incremental snapshot looks up the objects it read (to compare
    their links), looks them up again when it seals them, then hashes the whole
    manifest: with churn spread over a type, each pass touches every chunk of it, and
    the chunks of 100,000 users take about 25 MB. Kept, they are read once.

    ``warm`` fetches chunks a later lookup will need while the caller does other work
    (the pages of a read whose ids are compared only when sealed); a lookup of a chunk
    still on its way waits for it rather than fetching it again.

    ``cache``: what to keep chunks and sealed segments' headers in, when it should
    outlive the store (see ``chunk_cache``); otherwise the store keeps its own."""

    def __init__(
        self,
        manifest: AsyncCollection[Document],
        *,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        cache: ChunkCache | None = None,
    ) -> None:
        self._manifest = manifest
        self._cache = cache if cache is not None else ChunkCache(cache_bytes)
        self._headers = ChunkHeaders(manifest, self._cache)
        #: Chunks ``warm`` is fetching, and the fetches themselves.
        self._arriving: dict[str, asyncio.Future[None]] = {}
        self._warming: set[asyncio.Task[None]] = set()
        self._warmed_bytes = 0
        #: Chunks fetched from the server (not the cache): lookups count their cost.
        self.fetched = 0

    async def write(self, segment: str, type_name: str, entries: Sequence[ManifestEntry]) -> int:
        """Store entries (sorted by object id, none stored before at a smaller id in
        this segment and type) as chunks; idempotent. Returns how many were new."""
        rows = [entry.to_row() for entry in entries]
        written = await self.write_rows(
            segment, type_name, rows, [entry.leaf_digest() for entry in entries]
        )
        return written.entries

    async def write_rows(
        self,
        segment: str,
        type_name: str,
        rows: Sequence[Sequence[Any]],
        digests: Sequence[bytes],
    ) -> ChunksWritten:
        """``write`` for entries already as rows, with their Merkle leaves; also says
        how many bytes the chunks take (what a snapshot's manifest costs)."""
        documents = []
        size = CHUNK_ENTRIES
        stored_bytes = 0
        for start in range(0, len(rows), size):
            part = rows[start : start + size]
            document = chunk_document(segment, type_name, part, digests[start : start + size])
            stored_bytes += chunk_stored_bytes(document)
            document["_id"] = chunk_id(segment, type_name, part[0][0])
            documents.append(document)
        try:
            inserted = await insert_ignoring_duplicates(self._manifest, documents)
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        finally:
            # headers held, or read while the chunks went in, may lack them
            self._headers.written(segment, type_name)
        if inserted == len(documents):
            return ChunksWritten(len(rows), stored_bytes)
        new = sum(d["n"] for d in documents[: max(inserted, 0)]) if inserted else 0
        return ChunksWritten(new, stored_bytes)

    async def headers(self, segment: str, type_name: str) -> list[ChunkHeader]:
        return await self._headers.of(segment, type_name)

    async def prime_headers(self, segments: Iterable[str]) -> None:
        """Read the chunk headers of every type of these segments at once (a chain's,
        before it is read type by type)."""
        await self._headers.prime(segments)

    def trust_sealed(self, segments: Iterable[str]) -> None:
        """These segments are sealed (they belong to published snapshots): their headers
        may be kept with the cache's chunks and served from there."""
        self._headers.trust(segments)

    def forget(self) -> None:
        """Drop every chunk and header held, as a new process would start."""
        self._cache.clear()
        self._headers.clear()

    async def warm(self, segment: str, type_name: str, object_ids: Iterable[str]) -> None:
        """Start fetching, into the cache, the chunks holding these ids that it lacks;
        returns at once. Warming stops at half the cache, so what it fetched is still
        kept when the lookups it prepares come."""
        by_chunk = await self._by_chunk(segment, type_name, object_ids)
        wanted = [
            identifier
            for identifier in sorted(by_chunk)
            if identifier not in self._cache and identifier not in self._arriving
        ]
        if not wanted or self._warmed_bytes * 2 >= self._cache.capacity:
            return
        loop = asyncio.get_running_loop()
        for identifier in wanted:
            self._arriving[identifier] = loop.create_future()
        task = asyncio.create_task(self._fetch_warm(wanted))
        self._warming.add(task)
        task.add_done_callback(self._warming.discard)

    async def _fetch_warm(self, chunk_ids: list[str]) -> None:
        try:
            for start in range(0, len(chunk_ids), _FETCH_BATCH):
                loaded = await self._fetch(chunk_ids[start : start + _FETCH_BATCH], keep=True)
                self._warmed_bytes += sum(chunk.size for chunk in loaded.values())
        except DependencyUnavailable:
            pass  # the lookups fetch what warming could not, and report the failure
        finally:
            for identifier in chunk_ids:
                arriving = self._arriving.pop(identifier, None)
                if arriving is not None and not arriving.done():
                    arriving.set_result(None)

    async def _load(self, chunk_ids: Sequence[str], *, keep: bool = True) -> dict[str, LoadedChunk]:
        found = self._cached(chunk_ids)
        arriving = [
            self._arriving[identifier]
            for identifier in chunk_ids
            if identifier not in found and identifier in self._arriving
        ]
        if arriving:
            await asyncio.gather(*arriving)
            found.update(self._cached(chunk_ids))
        missing = [identifier for identifier in chunk_ids if identifier not in found]
        found.update(await self._fetch(missing, keep=keep))
        return found

    def _cached(self, chunk_ids: Sequence[str]) -> dict[str, LoadedChunk]:
        return self._cache.chunks(chunk_ids)

    async def _fetch(self, missing: Sequence[str], *, keep: bool) -> dict[str, LoadedChunk]:
        found: dict[str, LoadedChunk] = {}
        for start in range(0, len(missing), _FETCH_BATCH):
            batch = missing[start : start + _FETCH_BATCH]
            try:
                documents = await self._manifest.find({"_id": {"$in": batch}}).to_list()
            except PyMongoError as exc:
                raise unavailable(exc) from exc
            self.fetched += len(documents)
            for document in documents:
                loaded = LoadedChunk(document["t"], document)
                found[str(document["_id"])] = loaded
                if keep:
                    self._cache.keep(str(document["_id"]), loaded)
        return found

    async def stream(
        self,
        segment: str,
        type_name: str,
        *,
        after: str | None = None,
        before: str | None = None,
    ) -> AsyncIterator[ManifestEntry]:
        """Entries of a segment's type in id order, with ``after < id < before``."""
        async for rows, _digests, found_type in self.row_blocks(
            segment, type_name, after=after, before=before
        ):
            for row in rows:
                yield ManifestEntry.from_row(found_type, row)

    async def rows(
        self,
        segment: str,
        type_name: str,
        *,
        after: str | None = None,
        before: str | None = None,
    ) -> AsyncIterator[tuple[str, list[Any], bytes | None, str]]:
        """Like ``stream``, as stored: (object id, row, Merkle leaf or None, type)."""
        async for rows, digests, found_type in self.row_blocks(
            segment, type_name, after=after, before=before
        ):
            for row, digest in zip(rows, digests, strict=True):
                yield row[0], row, digest, found_type

    async def row_blocks(
        self,
        segment: str,
        type_name: str,
        *,
        after: str | None = None,
        before: str | None = None,
    ) -> AsyncIterator[tuple[list[list[Any]], list[bytes | None], str]]:
        """``rows`` a chunk at a time: (rows, their Merkle leaves or Nones, type). A pass
        over a whole manifest pays per chunk rather than per entry."""
        async for chunk in self.loaded(segment, type_name, after=after, before=before):
            rows = chunk.rows()
            stored = chunk.digests()
            digests: list[bytes | None] = list(stored) if stored else [None] * len(rows)
            first, end = 0, len(rows)
            if after is not None:
                first = bisect.bisect_right(rows, after, key=_ROW_ID)
            if before is not None:
                end = bisect.bisect_left(rows, before, lo=first, key=_ROW_ID)
            if first < end:
                if first > 0 or end < len(rows):
                    rows, digests = rows[first:end], digests[first:end]
                yield rows, digests, chunk.type

    async def loaded(
        self,
        segment: str,
        type_name: str,
        *,
        after: str | None = None,
        before: str | None = None,
    ) -> AsyncIterator[LoadedChunk]:
        """The chunks of a segment's type holding ids in ``after < id < before``, in id
        order, undecoded (trimming them to the range is the caller's)."""
        headers = await self.headers(segment, type_name)
        wanted = [
            h
            for h in headers
            if (after is None or h.last > after) and (before is None or h.first < before)
        ]
        for start in range(0, len(wanted), _FETCH_BATCH):
            batch = wanted[start : start + _FETCH_BATCH]
            loaded = await self._load([h.id for h in batch], keep=False)
            for header in batch:
                chunk = loaded.pop(header.id, None)
                if chunk is not None:
                    yield chunk

    async def _by_chunk(
        self, segment: str, type_name: str, object_ids: Iterable[str]
    ) -> dict[str, set[str]]:
        """The ids of ``object_ids`` each chunk of the segment's type may hold."""
        headers = await self.headers(segment, type_name)
        if not headers:
            return {}
        firsts = [header.first for header in headers]
        by_chunk: dict[str, set[str]] = {}
        for object_id in object_ids:
            index = bisect.bisect_right(firsts, object_id) - 1
            if index < 0 or headers[index].last < object_id:
                continue
            by_chunk.setdefault(headers[index].id, set()).add(object_id)
        return by_chunk

    async def fetches_for(self, segment: str, type_name: str, object_ids: Iterable[str]) -> int:
        """How many chunks a ``lookup`` of these ids would fetch (those not kept)."""
        by_chunk = await self._by_chunk(segment, type_name, object_ids)
        return sum(1 for identifier in by_chunk if identifier not in self._cache)

    async def lookup(
        self, segment: str, type_name: str, object_ids: Iterable[str]
    ) -> dict[str, ManifestEntry]:
        """Entries (tombstones included) of the ids this segment holds."""
        by_chunk = await self._by_chunk(segment, type_name, object_ids)
        loaded = await self._load(sorted(by_chunk))
        found: dict[str, ManifestEntry] = {}
        for identifier, ids in by_chunk.items():
            chunk = loaded.get(identifier)
            for row in chunk.find(ids) if chunk else ():
                found[row[0]] = ManifestEntry.from_row(type_name, row)
        return found

    async def count(self, segment: str, type_name: str) -> int:
        return sum(header.count for header in await self.headers(segment, type_name))
