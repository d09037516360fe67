"""Manifest chunks and chunk headers kept in memory, for one store or for a process.

A chunk is inserted once and never changed (a redone write of the same ``_id`` is
ignored), so a chunk read is valid for as long as anyone keeps it. Headers are
different: a segment still being sealed gains chunks. Only the headers of segments a
caller vouches for as sealed (those of published snapshots) are kept beyond one store.

The snapshotter keeps one cache per process (``process_chunk_cache``): an hourly
incremental snapshot reads the previous snapshot's chain, most of which the worker's last
job read, so a warm worker finds the chain's headers and the chunks its lookups need
without asking the server again. Verify never shares one: it checks what is stored.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rewind_common.storage.chunk_headers import ChunkHeader
    from rewind_common.storage.chunks import LoadedChunk

#: Sealed segments whose headers a cache holds (a chain is at most a few dozen).
SEALED_SEGMENTS_KEPT = 256

SegmentHeaders = Mapping[str, "list[ChunkHeader]"]


class ChunkCache:
    """Chunks by id, least recently used dropped first beyond ``capacity`` bytes, and
    the headers of sealed segments by segment and type."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._chunks: OrderedDict[str, LoadedChunk] = OrderedDict()
        self._bytes = 0
        self._sealed: OrderedDict[str, SegmentHeaders] = OrderedDict()

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._chunks

    @property
    def bytes(self) -> int:
        return self._bytes

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, LoadedChunk]:
        """Those of ``chunk_ids`` held (each now the most recently used)."""
        found: dict[str, LoadedChunk] = {}
        for identifier in chunk_ids:
            cached = self._chunks.get(identifier)
            if cached is not None:
                self._chunks.move_to_end(identifier)
                found[identifier] = cached
        return found

    def keep(self, chunk_id: str, chunk: LoadedChunk) -> None:
        if chunk_id in self._chunks:
            return
        self._chunks[chunk_id] = chunk
        self._bytes += chunk.size
        while self._bytes > self.capacity and self._chunks:
            _, dropped = self._chunks.popitem(last=False)
            self._bytes -= dropped.size

    def sealed_headers(self, segment: str) -> SegmentHeaders | None:
        """Every type's headers of a sealed segment, when held."""
        held = self._sealed.get(segment)
        if held is not None:
            self._sealed.move_to_end(segment)
        return held

    def keep_sealed_headers(self, segment: str, headers: SegmentHeaders) -> None:
        self._sealed[segment] = headers
        self._sealed.move_to_end(segment)
        while len(self._sealed) > SEALED_SEGMENTS_KEPT:
            self._sealed.popitem(last=False)

    def clear(self) -> None:
        self._chunks.clear()
        self._bytes = 0
        self._sealed.clear()


_PROCESS_CACHES: dict[str, ChunkCache] = {}


def process_chunk_cache(database: str, capacity: int) -> ChunkCache:
    """The process's cache for a database's manifest (created on first use; a new
    capacity applies from then on)."""
    cache = _PROCESS_CACHES.get(database)
    if cache is None:
        cache = _PROCESS_CACHES[database] = ChunkCache(capacity)
    cache.capacity = capacity
    return cache


def forget_process_caches(databases: Iterable[str] | None = None) -> None:
    """Drop what the process keeps (of some databases, or all): a worker started afresh."""
    for name in list(_PROCESS_CACHES) if databases is None else databases:
        cache = _PROCESS_CACHES.pop(name, None)
        if cache is not None:
            cache.clear()
