"""Manifest entries and the segments a snapshot's manifest is made of.

A snapshot's manifest is a chain of segments, oldest first. The first segment of a
chain is full: it lists every object. Each later segment, written by an incremental
snapshot, holds only what changed since the snapshot before it: new or changed entries,
and tombstones for objects that are gone. A segment can also be full for some types
(types Graph offers no delta for are read whole each time). The manifest of a snapshot
is the fold of its chain: for each object, the entry of the newest segment that has one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rewind_common.domain.hashing import canonical_json

#: Link values in a manifest entry: the hash of a stored link set (many-valued links) or
#: the linked object's id (``manager``).
LinkRefs = Mapping[str, str | None]


@dataclass(frozen=True)
class ManifestEntry:
    type: str
    object_id: str
    #: Hash of the stored object version; None marks a tombstone inside a segment.
    version: str | None
    deleted: bool = False
    display_name: str | None = None
    links: LinkRefs = field(default_factory=dict)

    @property
    def tombstone(self) -> bool:
        return self.version is None

    def leaf(self) -> bytes:
        """The bytes this entry contributes to the snapshot's Merkle tree."""
        return canonical_json(
            [
                self.type,
                self.object_id,
                self.version,
                self.deleted,
                self.display_name,
                dict(sorted(self.links.items())),
            ]
        )

    def to_document(self, segment: str) -> dict[str, Any]:
        return {
            "seg": segment,
            "t": self.type,
            "o": self.object_id,
            "v": self.version,
            "d": self.deleted,
            "n": self.display_name,
            "l": dict(self.links),
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ManifestEntry:
        return cls(
            type=document["t"],
            object_id=document["o"],
            version=document.get("v"),
            deleted=bool(document.get("d", False)),
            display_name=document.get("n"),
            links=dict(document.get("l") or {}),
        )

    def same_content(self, other: ManifestEntry) -> bool:
        return (
            self.version == other.version
            and self.deleted == other.deleted
            and self.display_name == other.display_name
            and dict(self.links) == dict(other.links)
        )


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
