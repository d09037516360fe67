"""The record of a completed snapshot: what the API shows and what chains snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rewind_common.storage.manifest import Segment
from rewind_common.storage.mongo import Document


@dataclass(frozen=True)
class SnapshotRecord:
    """A completed snapshot (DESIGN section 4 and 7)."""

    id: str
    tenant_id: str
    job_id: str
    mode: str
    #: The job's final status: ``Completed`` or ``Completed with warnings``.
    status: str
    created_at: datetime
    completed_at: datetime
    chain: list[Segment]
    counts: dict[str, int]
    deleted_counts: dict[str, int]
    link_counts: dict[str, int]
    entry_count: int
    new_versions: int
    stored_bytes: int
    manifest_root: str
    merkle_root: str
    previous_root: str | None
    previous_snapshot_id: str | None
    delta_links: dict[str, str] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    #: Types the credentials could not read: absent from this snapshot, not empty.
    unread_types: list[str] = field(default_factory=list)
    #: Types whose live objects were read but whose deleted items Graph would not list:
    #: an object missing from this snapshot may have been in its recycle bin.
    unread_deleted_items: list[str] = field(default_factory=list)

    def to_document(self) -> Document:
        return {
            "_id": self.id,
            "tenantId": self.tenant_id,
            "jobId": self.job_id,
            "mode": self.mode,
            "status": self.status,
            "createdAt": self.created_at,
            "completedAt": self.completed_at,
            "chain": [segment.to_document() for segment in self.chain],
            "counts": self.counts,
            "deletedCounts": self.deleted_counts,
            "linkCounts": self.link_counts,
            "entryCount": self.entry_count,
            "newVersions": self.new_versions,
            "storedBytes": self.stored_bytes,
            "manifestRoot": self.manifest_root,
            "merkleRoot": self.merkle_root,
            "previousRoot": self.previous_root,
            "previousSnapshotId": self.previous_snapshot_id,
            "deltaLinks": self.delta_links,
            "warnings": self.warnings,
            "unreadTypes": self.unread_types,
            "unreadDeletedItems": self.unread_deleted_items,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> SnapshotRecord:
        return cls(
            id=document["_id"],
            tenant_id=document["tenantId"],
            job_id=document["jobId"],
            mode=document["mode"],
            status=document.get("status", "Completed"),
            created_at=document["createdAt"],
            completed_at=document["completedAt"],
            chain=[Segment.from_document(s) for s in document["chain"]],
            counts=dict(document.get("counts", {})),
            deleted_counts=dict(document.get("deletedCounts", {})),
            link_counts=dict(document.get("linkCounts", {})),
            entry_count=int(document.get("entryCount", 0)),
            new_versions=int(document.get("newVersions", 0)),
            stored_bytes=int(document.get("storedBytes", 0)),
            manifest_root=document["manifestRoot"],
            merkle_root=document["merkleRoot"],
            previous_root=document.get("previousRoot"),
            previous_snapshot_id=document.get("previousSnapshotId"),
            delta_links=dict(document.get("deltaLinks", {})),
            warnings=list(document.get("warnings", [])),
            unread_types=list(document.get("unreadTypes", [])),
            unread_deleted_items=list(document.get("unreadDeletedItems", [])),
        )
