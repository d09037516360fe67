"""The entries of a difference report, and their JSON form.

One :class:`Change` per object that differs, shaped as the REST API's ``change``
resource (camelCase JSON)::

    {"type", "objectId", "displayName", "change", "action",
     "properties": [{"path", "backup", "current", "recoverable", "reason",
                     "added"?, "removed"?}],
     "links": {"<link>": {"added": [ids], "removed": [ids], "recoverable", "reason",
                          "unresolvable": [ids]}},
     "recoverable", "reason"}

``added`` and ``removed`` read from the report reader's point of view: ``added`` is
present now but not in the backup, ``removed`` is in the backup but gone now. A recovery
does the opposite (removes what was added, adds back what was removed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class ChangeKind(StrEnum):
    """How the live (or later) state differs from the backup."""

    UPDATED = "updated"
    SOFT_DELETED = "softDeleted"
    CREATED = "created"
    RESTORED = "restored"
    HARD_DELETED = "hardDeleted"
    LINKS_CHANGED = "linksChanged"


class Action(StrEnum):
    """What a recovery does about a change."""

    UPDATE = "update"
    RESTORE = "restore"
    SOFT_DELETE = "softDelete"
    RECREATE = "recreate"
    LINKS = "links"


#: The action each kind implies (DESIGN section 6).
ACTION_FOR: Mapping[ChangeKind, Action] = {
    ChangeKind.UPDATED: Action.UPDATE,
    ChangeKind.SOFT_DELETED: Action.RESTORE,
    ChangeKind.CREATED: Action.SOFT_DELETE,
    ChangeKind.RESTORED: Action.SOFT_DELETE,
    ChangeKind.HARD_DELETED: Action.RECREATE,
    ChangeKind.LINKS_CHANGED: Action.LINKS,
}


@dataclass(frozen=True)
class PropertyChange:
    """One differing property, named by its path, with both values as stored.

    ``added``/``removed`` are given for unordered collections: the elements that differ.
    """

    path: str
    backup: Any
    current: Any
    recoverable: bool = True
    reason: str | None = None
    added: tuple[Any, ...] | None = None
    removed: tuple[Any, ...] | None = None

    def unrecoverable(self, reason: str) -> PropertyChange:
        """This change marked not recoverable; the first reason found is kept."""
        if not self.recoverable:
            return self
        return replace(self, recoverable=False, reason=reason)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "backup": self.backup,
            "current": self.current,
            "recoverable": self.recoverable,
            "reason": self.reason,
        }
        if self.added is not None:
            out["added"] = list(self.added)
        if self.removed is not None:
            out["removed"] = list(self.removed)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PropertyChange:
        added, removed = data.get("added"), data.get("removed")
        return cls(
            path=data["path"],
            backup=data.get("backup"),
            current=data.get("current"),
            recoverable=bool(data.get("recoverable", True)),
            reason=data.get("reason"),
            added=None if added is None else tuple(added),
            removed=None if removed is None else tuple(removed),
        )


@dataclass(frozen=True)
class LinkChange:
    """Targets of one link (``members``, ``owners``, ``manager``) added and removed.

    For ``manager`` (one value) a replaced manager shows as one id removed and one added.
    ``unresolvable`` lists removed targets a recovery cannot add back (they exist neither
    in the tenant nor in the backup); the other targets are still added back, each
    membership being its own fact.
    """

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    recoverable: bool = True
    reason: str | None = None
    unresolvable: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "added": list(self.added),
            "removed": list(self.removed),
            "recoverable": self.recoverable,
            "reason": self.reason,
        }
        if self.unresolvable:
            out["unresolvable"] = list(self.unresolvable)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkChange:
        return cls(
            added=tuple(data.get("added", ())),
            removed=tuple(data.get("removed", ())),
            recoverable=bool(data.get("recoverable", True)),
            reason=data.get("reason"),
            unresolvable=tuple(data.get("unresolvable", ())),
        )


@dataclass(frozen=True)
class Change:
    """One object's difference between a backup and the live (or a later) state."""

    type: str
    object_id: str
    display_name: str | None
    change: ChangeKind
    action: Action
    properties: tuple[PropertyChange, ...] = ()
    links: Mapping[str, LinkChange] = field(default_factory=dict)
    recoverable: bool = True
    reason: str | None = None

    def property_at(self, path: str) -> PropertyChange:
        """The change at ``path``; ``KeyError`` when that path did not change."""
        for prop in self.properties:
            if prop.path == path:
                return prop
        raise KeyError(f"no change at {path!r}")

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(prop.path for prop in self.properties)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (DESIGN section 7's ``change``)."""
        return {
            "type": self.type,
            "objectId": self.object_id,
            "displayName": self.display_name,
            "change": self.change.value,
            "action": self.action.value,
            "properties": [prop.to_dict() for prop in self.properties],
            "links": {name: link.to_dict() for name, link in self.links.items()},
            "recoverable": self.recoverable,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        """Inverse of :meth:`to_dict`, for changes read back from storage."""
        return cls(
            type=data["type"],
            object_id=data["objectId"],
            display_name=data.get("displayName"),
            change=ChangeKind(data["change"]),
            action=Action(data["action"]),
            properties=tuple(PropertyChange.from_dict(p) for p in data.get("properties", ())),
            links={
                name: LinkChange.from_dict(link) for name, link in data.get("links", {}).items()
            },
            recoverable=bool(data.get("recoverable", True)),
            reason=data.get("reason"),
        )
