"""Which manifest chunks a segment holds for a type: their ids, id ranges and sizes.

Lookups and passes find the chunks they need from these headers. A chain is read a type
at a time and every segment of it is looked at for each type, so an incremental
snapshot on a chain of ten segments would ask the server for the headers of some sixty
(segment, type) pairs, one round trip each. ``prime`` reads the headers of every type
of a segment in one query instead. A segment written to afterwards (the
snapshot's own, sealed a type at a time while the pass reads the chain) falls back to
asking per type for what it lacks, so nothing stale is kept. The headers of segments
the caller vouches for as sealed (``trust``) are also kept in the chunk cache, which may
outlive this object: another job of the same process reading the same chain asks nothing.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from rewind_common.storage.chunk_cache import ChunkCache
from rewind_common.storage.mongo import Document, unavailable

_PROJECTION = {"o": 1, "hi": 1, "n": 1, "seg": 1, "t": 1}


@dataclass(frozen=True)
class ChunkHeader:
    id: str
    first: str
    last: str
    count: int

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> ChunkHeader:
        first = str(document["o"])
        return cls(
            str(document["_id"]), first, str(document.get("hi") or first), int(document.get("n", 1))
        )


class ChunkHeaders:
    """Chunk headers by (segment, type), read from the manifest collection and kept
    (chunks are immutable; a write to a segment drops what it changes)."""

    def __init__(self, manifest: AsyncCollection[Document], cache: ChunkCache) -> None:
        self._manifest = manifest
        self._cache = cache
        #: Segments known to be sealed, whose headers the cache may keep.
        self._sealed: set[str] = set()
        self._headers: dict[tuple[str, str], list[ChunkHeader]] = {}
        #: Segments whose headers of every type are all held.
        self._complete: set[str] = set()
        #: Writes per segment, so a read that overlapped one is not trusted whole.
        self._writes: Counter[str] = Counter()
        self._reading: dict[str, asyncio.Future[None]] = {}

    async def prime(self, segments: Iterable[str]) -> None:
        """Hold the headers of every type of these segments: a query per segment, each
        made once however many callers ask at the same time."""
        waits = []
        for segment in dict.fromkeys(segments):
            if segment in self._complete or self._from_cache(segment):
                continue
            reading = self._reading.get(segment)
            if reading is None:
                reading = asyncio.ensure_future(self._read_segment(segment))
                self._reading[segment] = reading
                reading.add_done_callback(functools.partial(self._done_reading, segment))
            waits.append(reading)
        if waits:
            await asyncio.gather(*(asyncio.shield(w) for w in waits))

    async def _read_segment(self, segment: str) -> None:
        writes = self._writes[segment]
        documents = await self._find({"seg": segment})
        if self._writes[segment] != writes:
            return  # written to meanwhile: its types are read one by one
        found: dict[str, list[ChunkHeader]] = defaultdict(list)
        for document in documents:
            found[str(document["t"])].append(ChunkHeader.of(document))
        by_type = {type_name: sorted(headers, key=_first) for type_name, headers in found.items()}
        self._hold(segment, by_type)
        if segment in self._sealed:
            self._cache.keep_sealed_headers(segment, by_type)

    def _hold(self, segment: str, by_type: Mapping[str, list[ChunkHeader]]) -> None:
        for type_name, headers in by_type.items():
            self._headers[(segment, type_name)] = headers
        self._complete.add(segment)

    def _from_cache(self, segment: str) -> bool:
        """Hold a sealed segment's headers from the cache, if there."""
        if segment not in self._sealed:
            return False
        by_type = self._cache.sealed_headers(segment)
        if by_type is None:
            return False
        self._hold(segment, by_type)
        return True

    def trust(self, segments: Iterable[str]) -> None:
        """These segments are sealed: nothing will be added to them."""
        self._sealed.update(segments)

    async def of(self, segment: str, type_name: str) -> list[ChunkHeader]:
        """The headers of a segment's chunks of a type, sorted by first id."""
        key = (segment, type_name)
        cached = self._headers.get(key)
        if cached is not None:
            return cached
        if segment in self._complete or self._from_cache(segment):
            return self._headers.get(key, [])
        if segment in self._sealed:
            # one query either way, and the whole segment's headers can be kept
            await self.prime([segment])
            return self._headers.get(key, [])
        writes = self._writes[segment]
        documents = await self._find({"seg": segment, "t": type_name})
        headers = sorted((ChunkHeader.of(d) for d in documents), key=_first)
        if self._writes[segment] == writes:
            self._headers[key] = headers
        return headers

    def clear(self) -> None:
        """Forget every header held (a new process would have none)."""
        self._headers.clear()
        self._complete.clear()

    def _done_reading(self, segment: str, _reading: asyncio.Future[None]) -> None:
        self._reading.pop(segment, None)

    def written(self, segment: str, type_name: str) -> None:
        """Chunks of a type were just added to a segment."""
        self._sealed.discard(segment)
        self._writes[segment] += 1
        self._complete.discard(segment)
        self._headers.pop((segment, type_name), None)

    async def _find(self, query: Mapping[str, Any]) -> list[Document]:
        try:
            return await self._manifest.find(query, _PROJECTION).to_list()
        except PyMongoError as exc:
            raise unavailable(exc) from exc


def _first(header: ChunkHeader) -> str:
    return header.first
