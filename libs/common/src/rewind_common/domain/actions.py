"""One step of a recovery plan, and its JSON form.

A :class:`PlannedAction` is shaped after DESIGN section 7's recovery action::

    {"id", "type", "objectId", "displayName", "action", "link", "outcome", "error",
     "before", "after", "newObjectId",
     "phase", "dependsOn", "requests": [{"method", "url", "body"}], "batchable",
     "properties", "linkChanges": {"add", "remove"}, "warnings": [{"type", "objectId",
     "reason"}], "reason", "oldAppId", "preexisting"}

In a plan ``outcome`` is ``pending``, or already ``failed``/``skipped`` (with ``error``)
for an action the plan knows it cannot take; the executor records the final outcome.
``before``/``after`` are whole bodies for object actions (``after`` may hold
placeholders); for a ``links`` action they are restricted to the targets it touches:
``{"members": [those present now]}`` and ``{"members": [those present after]}``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rewind_common.domain.changes import Action
from rewind_common.domain.requests import PlannedRequest


class Outcome(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"


class BlockCode(StrEnum):
    """Why a plan already knows an action will not be taken."""

    UNRESOLVABLE_REFERENCE = "unresolvableReference"  # failed: a reduced list is never written
    CONFLICT = "conflict"  # failed: another object holds the unique key a re-creation needs
    NOT_RECOVERABLE = "notRecoverable"  # skipped: Graph cannot do it (or it would hard-delete)
    NOTHING_WRITABLE = "nothingWritable"  # skipped: every difference is out of reach
    PROTECTED = "protectedAccount"  # skipped: a break-glass account is never deleted
    DEPENDENCY = "dependencyNotApplied"  # skipped: an action it needs will not be taken


FAILING_CODES = frozenset({BlockCode.UNRESOLVABLE_REFERENCE, BlockCode.CONFLICT})
_BLOCK_CODES = frozenset(code.value for code in BlockCode)


@dataclass(frozen=True)
class Blocked:
    """The outcome a plan already assigns to an action, with its reason."""

    code: BlockCode
    message: str

    @property
    def outcome(self) -> Outcome:
        return Outcome.FAILED if self.code in FAILING_CODES else Outcome.SKIPPED

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "message": self.message}


@dataclass(frozen=True)
class ActionWarning:
    """A job warning (DESIGN section 7): what a recovery leaves undone, and why."""

    type: str
    object_id: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "objectId": self.object_id, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActionWarning:
        return cls(type=data["type"], object_id=data["objectId"], reason=data["reason"])


@dataclass(frozen=True)
class LinkDelta:
    """Targets a ``links`` action adds and removes (ids or placeholders)."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, list[str]]:
        return {"add": list(self.add), "remove": list(self.remove)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkDelta:
        return cls(add=tuple(data.get("add", ())), remove=tuple(data.get("remove", ())))


def action_id(action: Action, type_name: str, object_id: str, link: str | None = None) -> str:
    """A plan-independent id: the same object and step always get the same id, so a
    recomputed plan recognises the actions a stopped recovery already applied."""
    parts = [action.value, type_name, object_id]
    if link is not None:
        parts.append(link)
    return ":".join(parts)


@dataclass(frozen=True)
class PlannedAction:
    """One write step of a recovery (or a step it reports but will not take)."""

    id: str
    type: str
    object_id: str
    action: Action
    display_name: str | None = None
    #: For ``links`` actions: which link (``members``, ``owners``, ``manager``).
    link: str | None = None
    phase: int = 0
    #: Sent in order; each must succeed before the next.
    requests: tuple[PlannedRequest, ...] = ()
    #: Top-level properties the requests write.
    properties: tuple[str, ...] = ()
    before: Any = None
    after: Any = None
    link_changes: LinkDelta | None = None
    #: Actions that must have been applied first; if one is not, neither is this one.
    depends_on: tuple[str, ...] = ()
    #: Whether the requests may travel in a JSON ``$batch`` (sequentially, in order).
    batchable: bool = True
    warnings: tuple[ActionWarning, ...] = ()
    blocked: Blocked | None = None
    #: For a re-created application: the old appId whose new value Graph returns.
    old_app_id: str | None = None
    #: For a re-creation: live objects that already matched its natural key when planned
    #: (never mistaken for the re-created object when resuming).
    preexisting: tuple[str, ...] = ()
    #: What the difference report says about the change (notes, partial recovery).
    reason: str | None = None

    @property
    def outcome(self) -> Outcome:
        return Outcome.PENDING if self.blocked is None else self.blocked.outcome

    @property
    def runnable(self) -> bool:
        return self.blocked is None

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.object_id)

    def to_dict(self) -> dict[str, Any]:
        """The stored and dry-run form (camelCase JSON)."""
        out: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "objectId": self.object_id,
            "displayName": self.display_name,
            "action": self.action.value,
            "link": self.link,
            "outcome": self.outcome.value,
            "error": None if self.blocked is None else self.blocked.to_dict(),
            "before": copy.deepcopy(self.before),
            "after": copy.deepcopy(self.after),
            "newObjectId": None,
            "phase": self.phase,
            "dependsOn": list(self.depends_on),
            "requests": [request.to_dict() for request in self.requests],
            "batchable": self.batchable,
            "properties": list(self.properties),
            "linkChanges": None if self.link_changes is None else self.link_changes.to_dict(),
            "warnings": [warning.to_dict() for warning in self.warnings],
            "reason": self.reason,
            "oldAppId": self.old_app_id,
            "preexisting": list(self.preexisting),
        }
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlannedAction:
        """Inverse of :meth:`to_dict` (``outcome`` and ``newObjectId`` are the executor's
        to track and are not read back)."""
        error = data.get("error")
        blocked = None
        # Only the plan's own verdicts are read back; a Graph error recorded by the
        # executor is an outcome, not part of the plan.
        if error is not None and error.get("code") in _BLOCK_CODES:
            blocked = Blocked(BlockCode(error["code"]), error["message"])
        link_changes = data.get("linkChanges")
        return cls(
            id=data["id"],
            type=data["type"],
            object_id=data["objectId"],
            action=Action(data["action"]),
            display_name=data.get("displayName"),
            link=data.get("link"),
            phase=int(data.get("phase", 0)),
            requests=tuple(PlannedRequest.from_dict(r) for r in data.get("requests", ())),
            properties=tuple(data.get("properties", ())),
            before=copy.deepcopy(data.get("before")),
            after=copy.deepcopy(data.get("after")),
            link_changes=None if link_changes is None else LinkDelta.from_dict(link_changes),
            depends_on=tuple(data.get("dependsOn", ())),
            batchable=bool(data.get("batchable", True)),
            warnings=tuple(ActionWarning.from_dict(w) for w in data.get("warnings", ())),
            blocked=blocked,
            old_app_id=data.get("oldAppId"),
            preexisting=tuple(data.get("preexisting", ())),
            reason=data.get("reason"),
        )
