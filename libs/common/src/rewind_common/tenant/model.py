"""What a tenant read yields: pages of object states, and delta rounds' items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rewind_common.domain.records import ObjectState

#: Where a paged read stands, as plain JSON so a job can checkpoint it.
Cursor = dict[str, Any]


@dataclass(frozen=True)
class StatePage:
    """Objects of one type, complete with their links.

    ``cursor`` resumes the read after this page (``None`` once the read is over).
    """

    type: str
    states: list[ObjectState]
    cursor: Cursor | None


@dataclass(frozen=True)
class LinkOps:
    """A delta round's report on one link of one object: ids added and ids removed.

    In the first round of a delta query every current target comes as an addition; in
    later rounds only the changes come. ``manager`` is reported the same way (the new
    manager added, the old one removed).
    """

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def apply(self, current: set[str]) -> set[str]:
        return (current - set(self.removed)) | set(self.added)


@dataclass(frozen=True)
class DeltaItem:
    """One entry of a delta page.

    ``state`` is the object as Graph now returns it (body normalized, ``links`` empty:
    links come as ``link_ops``), or ``None`` when the object left the collection, with
    ``removed`` saying how: ``changed`` (soft-deleted, restorable from deleted items) or
    ``deleted`` (gone for good).
    """

    type: str
    object_id: str
    state: ObjectState | None
    removed: str | None = None
    link_ops: Mapping[str, LinkOps] = field(default_factory=dict)

    @property
    def soft_deleted(self) -> bool:
        return self.removed == "changed"


@dataclass(frozen=True)
class DeltaPage:
    """A page of a delta round. The round's last page carries ``delta_link``, which
    starts the next round; every other page carries ``next_link``."""

    type: str
    items: list[DeltaItem]
    next_link: str | None
    delta_link: str | None
