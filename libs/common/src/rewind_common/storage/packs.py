"""Content-addressed object versions and link sets, stored in packs.

A version is the canonical JSON of a normalized body, named by its SHA-256; a link set
is a sorted list of ids, named the same way. Storing each in its own document would cost
the local MongoDB-compatible server a second per few thousand objects, so the versions
and link sets a snapshot adds for one page of objects go into one pack document:

``{_id, firstSnapshot, type, h: [hashes], v: {hash: canonical JSON}, l: {hash: [ids]},
nv, vb, lb}``

Manifest entries name the pack of their version and link sets, so reading a snapshot
fetches packs by id with a projection of the hashes it needs. ``h`` lists a pack's
hashes without an index (the local server pays about 30 µs per index key, more than
everything else a snapshot writes): a lookup by hash alone, for callers that kept no
entry, first asks the store's memo of packs its readers met and then scans.

A pack's id is derived from its content, so a page stored twice (a redelivered step) is
inserted once, and a page read again with different content gets a pack of its own
rather than references into a pack that does not hold them. Link sets too large for a
pack are stored in parts in ``linksets``, ``LINKSET_PART_SIZE`` ids per document; their
pack reference is ``LINKSETS``.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from rewind_common.errors import NotFound
from rewind_common.storage.inserts import insert_ignoring_duplicates
from rewind_common.storage.mongo import Document, unavailable

#: Pack reference of link sets stored in parts in the ``linksets`` collection.
LINKSETS = "linksets"
LINKSET_PART_SIZE = 20_000
#: A pack stays far below MongoDB's 16 MB document limit.
PACK_BYTES = 4_000_000
_ID_BYTES = 40  # an id in a link set, with BSON overhead
_REMEMBERED = 20_000


def linkset_digest(ids: Sequence[str]) -> str:
    """The hash of a link set: SHA-256 of the canonical JSON of its sorted ids."""
    from rewind_common.storage.canonical import canonical_strings

    return hashlib.sha256(canonical_strings(sorted(ids))).hexdigest()


@dataclass
class PackBuilder:
    """Collects one unit of work's new versions and link sets into pack documents."""

    snapshot_id: str
    type_name: str
    #: The tenant the snapshot belongs to: what retention sweeps by.
    tenant_id: str | None = None
    versions: dict[str, bytes] = field(default_factory=dict)
    linksets: dict[str, list[str]] = field(default_factory=dict)
    large: dict[str, list[str]] = field(default_factory=dict)

    def add_version(self, digest: str, canonical: bytes) -> None:
        self.versions.setdefault(digest, canonical)

    def add_linkset(self, digest: str, ids: list[str]) -> None:
        """``ids`` sorted and unique."""
        if len(ids) > LINKSET_PART_SIZE:
            self.large.setdefault(digest, ids)
        else:
            self.linksets.setdefault(digest, ids)

    def reuse(self, stored: Mapping[str, str]) -> None:
        """Leave out the hashes ``stored`` already names a pack for (content an earlier
        snapshot stored): a version is stored once, however many snapshots hold it."""
        for digest in stored:
            self.versions.pop(digest, None)
            self.linksets.pop(digest, None)
            self.large.pop(digest, None)

    def __contains__(self, digest: object) -> bool:
        return digest in self.versions or digest in self.linksets or digest in self.large

    def __bool__(self) -> bool:
        return bool(self.versions or self.linksets or self.large)

    @property
    def new_versions(self) -> int:
        """The versions its packs hold (their ``nv``): what a snapshot adds as it
        stores them. A pack stored twice (a redelivered step) counts again only when
        the step that stored it first saved no checkpoint, so callers count it next to
        the checkpoint that records the pack as stored."""
        return len(self.versions)

    @property
    def new_bytes(self) -> int:
        """The bytes its packs hold (their ``vb`` + ``lb``)."""
        return sum(len(canonical) for canonical in self.versions.values()) + sum(
            len(ids) * _ID_BYTES for ids in self.linksets.values()
        )

    def build(self) -> tuple[list[Document], dict[str, str], list[Document]]:
        """Pack documents, each stored hash's pack id, and ``linksets`` documents."""
        items: list[tuple[str, str, Any, int]] = [
            (digest, "v", canonical.decode("utf-8"), len(canonical))
            for digest, canonical in sorted(self.versions.items())
        ]
        items += [
            (digest, "l", ids, len(ids) * _ID_BYTES)
            for digest, ids in sorted(self.linksets.items())
        ]
        packs: list[Document] = []
        where: dict[str, str] = {}
        part: list[tuple[str, str, Any, int]] = []
        size = 0
        for item in items:
            if part and size + item[3] > PACK_BYTES:
                packs.append(self._pack(part, where))
                part, size = [], 0
            part.append(item)
            size += item[3]
        if part:
            packs.append(self._pack(part, where))
        large_documents: list[Document] = []
        for digest, ids in self.large.items():
            parts = linkset_parts(digest, ids)
            parts[-1].update({"tenant": self.tenant_id, "firstSnapshot": self.snapshot_id})
            large_documents.extend(parts)
            where[digest] = LINKSETS
        return packs, where, large_documents

    def _pack(self, items: list[tuple[str, str, Any, int]], where: dict[str, str]) -> Document:
        hashes = [digest for digest, _, _, _ in items]
        pack_id = self.snapshot_id + ":" + hashlib.sha256("".join(hashes).encode()).hexdigest()[:32]
        versions = {digest: value for digest, kind, value, _ in items if kind == "v"}
        linksets = {digest: value for digest, kind, value, _ in items if kind == "l"}
        for digest in hashes:
            where[digest] = pack_id
        return {
            "_id": pack_id,
            "firstSnapshot": self.snapshot_id,
            "tenant": self.tenant_id,
            "type": self.type_name,
            "h": hashes,
            "v": versions,
            "l": linksets,
            "nv": len(versions),
            "vb": sum(size for _, kind, _, size in items if kind == "v"),
            "lb": sum(size for _, kind, _, size in items if kind == "l"),
        }


def linkset_parts(digest: str, ids: list[str]) -> list[Document]:
    documents: list[Document] = []
    parts = []
    for start in range(0, len(ids), LINKSET_PART_SIZE):
        part = f"{digest}:{start // LINKSET_PART_SIZE}"
        parts.append(part)
        documents.append(
            {
                "_id": part,
                "count": len(ids[start : start + LINKSET_PART_SIZE]),
                "ids": ids[start : start + LINKSET_PART_SIZE],
            }
        )
    documents.append({"_id": digest, "count": len(ids), "parts": parts})
    return documents


class PackStore:
    def __init__(
        self, packs: AsyncCollection[Document], linksets: AsyncCollection[Document]
    ) -> None:
        self._packs = packs
        self._linksets = linksets
        #: Where recently read entries said their hashes are stored (bounded).
        self._seen: OrderedDict[str, str] = OrderedDict()

    def remember(self, digest: str, pack: str | None) -> None:
        """Note where a hash is stored, for later lookups by hash alone."""
        if pack is None:
            return
        self._seen[digest] = pack
        self._seen.move_to_end(digest)
        while len(self._seen) > _REMEMBERED:
            self._seen.popitem(last=False)

    async def insert(self, builder: PackBuilder) -> dict[str, str]:
        """Store a builder's packs (idempotently); returns each hash's pack id."""
        packs, where, large = builder.build()
        try:
            await insert_ignoring_duplicates(self._packs, packs)
            await insert_ignoring_duplicates(self._linksets, large)
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return where

    async def _fetch(
        self, field_name: str, refs: Iterable[tuple[str, str | None]]
    ) -> dict[str, Any]:
        by_pack: dict[str | None, set[str]] = defaultdict(set)
        for digest, pack in refs:
            by_pack[pack or self._seen.get(digest)].add(digest)
        found: dict[str, Any] = {}
        try:
            for pack, digests in by_pack.items():
                if pack is None or pack == LINKSETS:
                    continue
                projection = {f"{field_name}.{digest}": 1 for digest in digests}
                document = await self._packs.find_one({"_id": pack}, projection)
                if document is not None:
                    found.update(document.get(field_name) or {})
            unresolved = {
                digest
                for pack, digests in by_pack.items()
                for digest in digests
                if digest not in found and pack != LINKSETS
            }
            for digest in sorted(unresolved):
                document = await self._packs.find_one({"h": digest}, {f"{field_name}.{digest}": 1})
                if document is not None:
                    found.update(document.get(field_name) or {})
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return found

    async def versions(self, refs: Iterable[tuple[str, str | None]]) -> dict[str, bytes]:
        """Canonical JSON of versions by hash; a pack of None means "find by hash"."""
        found = await self._fetch("v", refs)
        return {digest: str(value).encode("utf-8") for digest, value in found.items()}

    async def linksets(self, refs: Iterable[tuple[str, str | None]]) -> dict[str, list[str]]:
        refs = list(refs)
        found = {digest: list(ids) for digest, ids in (await self._fetch("l", refs)).items()}
        for digest, pack in refs:
            if digest not in found and (pack == LINKSETS or pack is None):
                ids = await self._large(digest)
                if ids is not None:
                    found[digest] = ids
        return found

    async def _large(self, digest: str) -> list[str] | None:
        try:
            document = await self._linksets.find_one({"_id": digest})
            if document is None:
                return None
            if "ids" in document:
                return list(document["ids"])
            ids: list[str] = []
            for part in document.get("parts", []):
                part_document = await self._linksets.find_one({"_id": part})
                if part_document is None:
                    raise NotFound(f"link set part {part} is missing from storage")
                ids.extend(part_document["ids"])
            return ids
        except PyMongoError as exc:
            raise unavailable(exc) from exc

    async def existing(self, digests: Sequence[str]) -> set[str]:
        """Which of ``digests`` are stored in some pack."""
        found: set[str] = set()
        try:
            for digest in digests:
                if await self._packs.find_one({"h": digest}, {"_id": 1}) is not None:
                    found.add(digest)
        except PyMongoError as exc:
            raise unavailable(exc) from exc
        return found


def version_body(canonical: bytes) -> dict[str, Any]:
    value = json.loads(canonical)
    if not isinstance(value, dict):
        raise ValueError("a stored version is not a JSON object")
    return value
