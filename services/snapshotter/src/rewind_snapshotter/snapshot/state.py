"""A snapshot job's checkpoint: everything a redelivered step needs to carry on.

Saved after every page read, every bucket sealed and every stretch of the Merkle pass,
as plain JSON in the job's checkpoint document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rewind_common.storage.manifest import Segment

#: Phases, in order.
PLAN = "plan"
READ = "read"
SEAL = "seal"
MERKLE = "merkle"
PUBLISH = "publish"

#: How a type is read.
DELTA_FIRST = "deltaFirst"  # the first round of a delta query: every current object
DELTA_CHANGES = "deltaChanges"  # a delta round from the previous snapshot's link
PAGES = "pages"  # a plain listing (TenantReader.pages), deleted items included

#: Stages of reading one type.
MAIN = "main"
DELETED = "deleted"
OWNERS = "owners"
DONE = "done"
UNREAD = "unread"


@dataclass
class TypeProgress:
    name: str
    method: str
    #: Part of the new segment whole (read in full) rather than as changes.
    full: bool
    stage: str = MAIN
    #: Bumped when the type's read starts again from scratch; older records are ignored.
    attempt: int = 0
    #: Pages stored in this attempt: orders the type's staging records.
    revision: int = 0
    #: Where the current stage resumes: a nextLink, a reader cursor or a deltaLink.
    cursor: Any = None
    #: The deltaLink that ended the type's delta round, for the next snapshot.
    delta_link: str | None = None
    read: int = 0
    #: Bytes of the bodies read, before deduplication.
    logical_bytes: int = 0
    #: Versions, and bytes of versions and link sets, in the packs stored for the type.
    new_versions: int = 0
    new_bytes: int = 0
    #: Whether pages are compared with the previous snapshot as they are stored.
    dedup: bool = True
    #: Why the type could not be read, when it could not.
    unread_reason: str | None = None
    #: Why its deleted items could not be read, when the live objects could.
    deleted_unread_reason: str | None = None
    #: Sealing: buckets of the type already in the new segment, and whether all are.
    sealed_buckets: list[str] = field(default_factory=list)
    sealed: bool = False
    #: The last id sealed so far (whether the Merkle pass may take the next rows as they
    #: are sealed).
    last_sealed_id: str | None = None

    @property
    def read_done(self) -> bool:
        return self.stage in (DONE, UNREAD)

    def restart(self, method: str) -> None:
        self.method = method
        self.full = True
        self.stage = MAIN
        self.attempt += 1
        self.revision = 0
        self.cursor = None
        self.delta_link = None


@dataclass
class MerkleProgress:
    type_index: int = 0
    after: str | None = None
    stack: list[tuple[int, str]] = field(default_factory=list)
    count: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    deleted_counts: dict[str, int] = field(default_factory=dict)
    link_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class SnapshotState:
    snapshot_id: str
    mode: str
    base_id: str | None
    base_root: str | None
    base_chain: list[dict[str, Any]]
    base_delta_links: dict[str, str]
    expected_objects: int
    #: When reading began: the snapshot's point in time (ISO 8601).
    started_at: str = ""
    phase: str = READ
    types: dict[str, TypeProgress] = field(default_factory=dict)
    #: Packs the new segment's entries reference (retention keeps them while it lives).
    packs: list[str] = field(default_factory=list)
    manifest_bytes: int = 0
    #: Whether the types count the packs they store (a checkpoint saved before they
    #: did leaves publishing to count them in storage).
    packs_counted: bool = True
    merkle: MerkleProgress = field(default_factory=MerkleProgress)
    manifest_root: str | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        # Saved after every page: a shallow copy per part, not dataclasses.asdict's
        # deep walk of every field.
        data = dict(vars(self))
        data["types"] = {
            name: {**vars(progress), "sealed_buckets": list(progress.sealed_buckets)}
            for name, progress in self.types.items()
        }
        merkle = dict(vars(self.merkle))
        merkle["stack"] = [list(item) for item in self.merkle.stack]
        merkle["counts"] = dict(self.merkle.counts)
        merkle["deleted_counts"] = dict(self.merkle.deleted_counts)
        merkle["link_counts"] = dict(self.merkle.link_counts)
        data["merkle"] = merkle
        data["packs"] = list(self.packs)
        data["warnings"] = [dict(w) for w in self.warnings]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SnapshotState:
        values = dict(data)
        values.setdefault("packs_counted", False)
        values["types"] = {
            name: TypeProgress(**progress) for name, progress in values.get("types", {}).items()
        }
        merkle = dict(values.get("merkle") or {})
        merkle["stack"] = [(int(h), str(d)) for h, d in merkle.get("stack", [])]
        values["merkle"] = MerkleProgress(**merkle)
        return cls(**values)

    @property
    def objects_read(self) -> int:
        return sum(progress.read for progress in self.types.values())


def chain_of(state: SnapshotState) -> list[Segment]:
    """The new snapshot's manifest chain: the base's chain and the new segment when
    incremental, the new segment alone when full."""
    full_types = frozenset(name for name, progress in state.types.items() if progress.full)
    segment = Segment(state.snapshot_id, full_types)
    if state.mode == "incremental":
        return [*(Segment.from_document(s) for s in state.base_chain), segment]
    return [segment]
