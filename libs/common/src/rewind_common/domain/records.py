"""The state of one directory object, as backed up or as read live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rewind_common.registry import get_type

#: Link values: a many-valued link is a sorted tuple of ids; ``manager`` is an id or None.
LinkValue = tuple[str, ...] | str | None

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class ObjectState:
    """One object: its normalized body (volatile properties removed), whether it sits in
    a recycle bin, and its links (``members``, ``owners``, ``manager``).

    ``volatile`` holds the volatile properties Graph returned (sign-in activity, the
    service's timestamps): kept with the backup, never hashed, compared or written."""

    type: str
    object_id: str
    body: Mapping[str, Any]
    deleted: bool = False
    links: Mapping[str, LinkValue] = field(default_factory=dict)
    volatile: Mapping[str, Any] = field(default_factory=dict)

    @property
    def display_name(self) -> str | None:
        value = self.body.get(get_type(self.type).display_name)
        return value if isinstance(value, str) else None

    @property
    def as_returned(self) -> JsonObject:
        """The body with its volatile properties: every property Graph returned."""
        return as_returned(self.body, self.volatile)

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.object_id)


def link_value(ids: list[str] | tuple[str, ...] | set[str], *, many: bool) -> LinkValue:
    """The canonical form of a link: sorted unique ids, or a single id (or None)."""
    unique = sorted(set(ids))
    if many:
        return tuple(unique)
    if len(unique) > 1:
        raise ValueError(f"a single-valued link holds {len(unique)} ids")
    return unique[0] if unique else None


def as_returned(body: Mapping[str, Any], volatile: Mapping[str, Any]) -> JsonObject:
    """A stored body with the volatile properties kept beside it: what Graph returned,
    less volatile properties that were null (``normalize.volatile_part``)."""
    return {**body, **volatile} if volatile else dict(body)
