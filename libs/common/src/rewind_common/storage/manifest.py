"""Manifest entries, the segments a snapshot's manifest is made of, and how entries are
laid out in MongoDB.

A snapshot's manifest is a chain of segments, oldest first. The first segment of a
chain is full: it lists every object. Each later segment, written by an incremental
snapshot, holds only what changed since the snapshot before it: new or changed entries,
and tombstones for objects that are gone. A segment can also be full for some types
(types Graph offers no delta for are read whole each time). The manifest of a snapshot
is the fold of its chain: for each object, the entry of the newest segment that has one.

Entries are stored in chunks, not one document each: a MongoDB-compatible server pays
per document (the local one inserts a few thousand indexed documents a second but tens
of thousands of entries a second in chunks). A chunk holds up to ``CHUNK_ENTRIES``
entries of one type of one segment, sorted by object id, and is keyed by its first
object id, so chunks of a segment never overlap and a segment's type reads back in id
order, chunk after chunk.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from bson import Binary

from rewind_common.domain.hashing import canonical_json
from rewind_common.registry import ALL_TYPES
from rewind_common.storage.canonical import canonical_bytes, canonical_transient

#: Link values in a manifest entry: the hash of a stored link set (many-valued links) or
#: the linked object's id (``manager``).
LinkRefs = Mapping[str, str | None]

CHUNK_ENTRIES = 500
#: Separates the ids a chunk lists (``ids``); Graph's ids never hold one.
_ID_SEPARATOR = "\n"
#: For each type, its links as (name, many-valued).
_LINKS = {t.name: tuple((link.name, link.many) for link in t.links) for t in ALL_TYPES}
_LINK_NAMES = {
    t.name: frozenset(link.name for link in t.links if link.name.isascii()) for t in ALL_TYPES
}


@dataclass(frozen=True)
class ManifestEntry:
    type: str
    object_id: str
    #: Hash of the stored object version; None marks a tombstone inside a segment.
    version: str | None
    deleted: bool = False
    display_name: str | None = None
    links: LinkRefs = field(default_factory=dict)
    #: Where the version is stored (the pack holding it); None when unknown, and then
    #: the version is found by its hash.
    pack: str | None = None
    #: Where each link set is stored, by link name.
    link_packs: Mapping[str, str] = field(default_factory=dict)
    #: How many ids each link set holds (counted into the snapshot's link counts).
    link_sizes: Mapping[str, int] = field(default_factory=dict)
    #: The object's volatile properties as Graph returned them (never part of the
    #: version's hash: they change on their own), covered by the Merkle leaf.
    volatile: Mapping[str, Any] = field(default_factory=dict)

    @property
    def tombstone(self) -> bool:
        return self.version is None

    def leaf(self) -> bytes:
        """The bytes this entry contributes to the snapshot's Merkle tree: its content,
        never where it is stored. Equal to ``canonical_json`` of the same list."""
        return leaf_bytes(
            self.type,
            self.object_id,
            self.version,
            self.deleted,
            self.display_name,
            self.links,
            self.volatile,
        )

    def leaf_digest(self) -> bytes:
        """The entry's leaf in the Merkle tree (RFC 6962: SHA-256 of 0x00 and the leaf)."""
        return leaf_digest(self.leaf())

    def same_content(self, other: ManifestEntry) -> bool:
        return (
            self.version == other.version
            and self.deleted == other.deleted
            and self.display_name == other.display_name
            and dict(self.links) == dict(other.links)
            and dict(self.volatile) == dict(other.volatile)
        )

    # -- the compact form stored inside a chunk -------------------------------------

    def to_row(self) -> list[Any]:
        return [
            self.object_id,
            self.version,
            self.pack,
            self.deleted,
            self.display_name,
            dict(self.links) or None,
            dict(self.link_packs) or None,
            dict(self.link_sizes) or None,
            dict(self.volatile) or None,
        ]

    @classmethod
    def from_row(cls, type_name: str, row: Sequence[Any]) -> ManifestEntry:
        return cls(
            type=type_name,
            object_id=row[0],
            version=row[1],
            pack=row[2],
            deleted=bool(row[3]),
            display_name=row[4],
            links=dict(row[5] or {}),
            link_packs=dict(row[6] or {}),
            link_sizes=dict(row[7] or {}) if len(row) > 7 else {},
            volatile=dict(row[8] or {}) if len(row) > 8 else {},
        )

    # -- one entry as a document (kept for callers that think in entries) ------------

    def to_document(self, segment: str) -> dict[str, Any]:
        return {
            "seg": segment,
            "t": self.type,
            **dict(zip(_ROW_FIELDS, self.to_row(), strict=True)),
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ManifestEntry:
        return cls.from_row(document["t"], [document.get(name) for name in _ROW_FIELDS])


_ROW_FIELDS = ("o", "v", "p", "d", "n", "l", "lp", "lc", "w")


def chunk_document(
    segment: str,
    type_name: str,
    rows: Sequence[Sequence[Any]],
    digests: Sequence[bytes],
) -> dict[str, Any]:
    """A chunk of entries (as rows) sorted by object id; ``o`` (its first id) is its key.
    The rows are one JSON array in a binary field: the server stores it as it comes
    instead of walking thousands of small nested values.

    Beside the rows, what a pass over the whole manifest needs without decoding them:
    ``lh`` holds each entry's Merkle leaf, ``ids`` the entries' ids and ``st`` what they
    add to the snapshot's counts, so a snapshot chained on this segment hashes and
    counts its manifest without rebuilding the entries it did not change (verification
    recomputes them)."""
    document: dict[str, Any] = {
        "seg": segment,
        "t": type_name,
        "o": rows[0][0],
        "hi": rows[-1][0],
        "n": len(rows),
        "e": Binary(orjson.dumps(rows)),
        "lh": Binary(b"".join(digests)),
    }
    ids = [str(row[0]) for row in rows]
    # Tombstones (in segments of changes) are not entries of the manifest: such a chunk
    # is only ever read row by row.
    if not any(_ID_SEPARATOR in object_id for object_id in ids) and all(
        row[1] is not None for row in rows
    ):
        document["ids"] = Binary(_ID_SEPARATOR.join(ids).encode("utf-8"))
        document["st"] = RowCounts.of_rows(type_name, rows).to_document()
    return document


def chunk_stored_bytes(document: Mapping[str, Any]) -> int:
    """Bytes a chunk stores (its rows, leaves and ids): what a manifest costs."""
    return sum(len(part) for part in (document.get(name) for name in ("e", "lh", "ids")) if part)


def chunk_ids(document: Mapping[str, Any]) -> list[str] | None:
    """The ids of a chunk's entries, in order, when its writer listed them."""
    packed = document.get("ids")
    if not isinstance(packed, bytes):
        return None
    return bytes(packed).decode("utf-8").split(_ID_SEPARATOR)


def chunk_counts(document: Mapping[str, Any]) -> RowCounts | None:
    """What a chunk's entries add to the counts, when its writer stored it."""
    stored = document.get("st")
    if not isinstance(stored, Mapping):
        return None
    return RowCounts.from_document(int(document.get("n", 0)), stored)


@dataclass
class RowCounts:
    """What entries add to a snapshot's counts: the entries, those in the recycle bin,
    and per link the ids of many-valued links or the objects with a single-valued one."""

    entries: int = 0
    deleted: int = 0
    links: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of_rows(cls, type_name: str, rows: Sequence[Sequence[Any]]) -> RowCounts:
        counts = cls(entries=len(rows), deleted=sum(1 for row in rows if row[3]))
        for name, many in _LINKS.get(type_name, ()):
            if many:
                size = sum((row[7] or {}).get(name, 0) for row in rows if len(row) > 7)
            else:
                size = sum(1 for row in rows if (row[5] or {}).get(name))
            if size:
                counts.links[name] = size
        return counts

    def add_row(self, type_name: str, row: Sequence[Any], sign: int = 1) -> None:
        """``add(RowCounts.of_rows(type_name, [row]), sign)``, without building it: an
        incremental snapshot's pass adds and takes away a row per changed object."""
        self.entries += sign
        if row[3]:
            self.deleted += sign
        links = self.links
        for name, many in _LINKS.get(type_name, ()):
            if many:
                size = (row[7] or {}).get(name, 0) if len(row) > 7 else 0
            else:
                size = 1 if (row[5] or {}).get(name) else 0
            if size:
                total = links.get(name, 0) + sign * size
                if total:
                    links[name] = total
                else:
                    del links[name]

    def add(self, other: RowCounts, sign: int = 1) -> None:
        """Add ``other`` (``sign=-1``: take it away)."""
        self.entries += sign * other.entries
        self.deleted += sign * other.deleted
        for name, size in other.links.items():
            total = self.links.get(name, 0) + sign * size
            if total:
                self.links[name] = total
            else:
                self.links.pop(name, None)

    def to_document(self) -> dict[str, Any]:
        return {"d": self.deleted, "l": dict(self.links)}

    @classmethod
    def from_document(cls, entries: int, document: Mapping[str, Any]) -> RowCounts:
        links = {str(k): int(v) for k, v in dict(document.get("l") or {}).items()}
        return cls(entries=entries, deleted=int(document.get("d", 0)), links=links)


def leaf_bytes(
    type_name: str,
    object_id: str,
    version: str | None,
    deleted: bool,
    display_name: str | None,
    links: Mapping[str, str | None],
    volatile: Mapping[str, Any] | None = None,
) -> bytes:
    """``canonical_json([type, id, version, deleted, display name, links])``, with the
    volatile properties appended when there are any (entries stored before they were
    kept hash as they did): what an entry contributes to the Merkle tree, written by
    orjson when it writes the same."""
    value: list[Any] = [type_name, object_id, version, deleted, display_name, links]
    if volatile:
        # values of any JSON type: canonical_bytes decides when orjson's form will do
        return canonical_bytes([*value[:5], dict(links), dict(volatile)])
    # orjson sorts ASCII keys in RFC 8785 order itself; anything else is the reference's
    if type(links) is dict and all(name.isascii() for name in links):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass
    value[5] = dict(links)
    return canonical_json(value)


def row_leaf_digest(type_name: str, row: Sequence[Any]) -> bytes:
    """The Merkle leaf of an entry stored as ``row`` (see ``ManifestEntry.to_row``)."""
    return leaf_digest(
        leaf_bytes(
            type_name,
            row[0],
            row[1],
            bool(row[3]),
            row[4],
            row[5] or {},
            row[8] if len(row) > 8 else None,
        )
    )


def row_leaf_digests(type_name: str, rows: Sequence[Sequence[Any]]) -> list[bytes]:
    """``row_leaf_digest`` of each row, as sealing needs them for a whole chunk: the
    leaf of a row whose link names are the registry's (ASCII) is written by orjson in
    place, without the copies ``leaf_bytes`` makes for any caller."""
    registry_names = _LINK_NAMES.get(type_name, frozenset())
    sha256 = hashlib.sha256
    digests: list[bytes] = []
    for row in rows:
        links = row[5] or {}
        volatile = row[8] if len(row) > 8 else None
        leaf: bytes | None = None
        if type(links) is dict and links.keys() <= registry_names:
            value = [type_name, row[0], row[1], bool(row[3]), row[4], links]
            if volatile:
                if type(volatile) is dict:
                    value.append(volatile)
                    leaf = canonical_transient(value)
            else:
                # strings, a boolean and a dict of ASCII keys: orjson's form is RFC 8785's
                with contextlib.suppress(orjson.JSONEncodeError):
                    leaf = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        if leaf is None:
            leaf = leaf_bytes(type_name, row[0], row[1], bool(row[3]), row[4], links, volatile)
        digests.append(sha256(b"\x00" + leaf).digest())
    return digests


def leaf_digest(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def chunk_leaf_digests(document: Mapping[str, Any]) -> list[bytes] | None:
    """The Merkle leaf of each entry, as the chunk's writer computed them (``lh``)."""
    packed = document.get("lh")
    if not isinstance(packed, bytes):
        return None
    return [packed[i : i + 32] for i in range(0, len(packed), 32)]


def chunk_rows(document: Mapping[str, Any]) -> list[Any]:
    rows = document.get("e", ())
    if isinstance(rows, bytes):
        decoded = orjson.loads(rows if type(rows) is bytes else bytes(rows))
        return decoded if isinstance(decoded, list) else []
    return list(rows)


def chunk_entries(document: Mapping[str, Any]) -> list[ManifestEntry]:
    type_name = document["t"]
    return [ManifestEntry.from_row(type_name, row) for row in chunk_rows(document)]


def chunked(
    entries: Sequence[ManifestEntry], size: int = CHUNK_ENTRIES
) -> list[list[ManifestEntry]]:
    return [list(entries[start : start + size]) for start in range(0, len(entries), size)]


@dataclass(frozen=True)
class Segment:
    """One link of a manifest chain; ``full_types`` lists the types it holds whole."""

    id: str
    full_types: frozenset[str]

    def to_document(self) -> dict[str, Any]:
        return {"id": self.id, "fullTypes": sorted(self.full_types)}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Segment:
        return cls(id=document["id"], full_types=frozenset(document.get("fullTypes", ())))


def segments_for_type(chain: list[Segment], type_name: str) -> list[Segment]:
    """The segments that hold a type's entries, newest first, ending at the newest
    segment that holds the type whole."""
    relevant: list[Segment] = []
    for segment in reversed(chain):
        relevant.append(segment)
        if type_name in segment.full_types:
            break
    return relevant


def bucket_of(object_id: str) -> str:
    """The range of ids an entry is sorted with before its segment is sealed: ids
    sharing a first character sort together and after every id of a smaller one."""
    return object_id[:1]
