"""A difference report's checkpoint: everything a redelivered step needs to carry on.

Saved after every page staged and every batch of changes stored, as plain JSON in the
job's checkpoint document.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Phases, in order.
LOAD = "load"
COMPARE = "compare"
FINISH = "finish"


@dataclass
class TypeTask:
    """One type of the report: the whole type, or the listed ids of it."""

    name: str
    #: The ids in scope, sorted; None when the whole type is.
    ids: list[str] | None = None
    #: How many objects of it the backup holds (what reading it is expected to cost).
    count: int = 0
    #: Loading: the stage of a whole type read through delta (``main``, then ``deleted``)
    #: and where the read resumes (a reader cursor, a nextLink, or the next id chunk).
    stage: str = "main"
    cursor: Any = None
    #: Characters of the id a staged object is bucketed by: more for larger types, so a
    #: bucket (what comparing holds in memory) stays small whatever the tenant's size.
    bucket_width: int = 1
    revision: int = 0
    loaded: bool = False
    #: Comparing: every object id up to this one has been compared.
    after: str | None = None
    compared: bool = False
    #: Why the type is left out of the report (unreadable, absent from the backup).
    skipped: str | None = None

    @property
    def whole(self) -> bool:
        return self.ids is None


@dataclass
class DiffState:
    report_id: str
    snapshot_id: str
    compare_to: str | None
    phase: str = LOAD
    tasks: list[TypeTask] = field(default_factory=list)
    #: How many objects the report should cover (for progress), and how far it got.
    expected: int = 0
    loaded: int = 0
    compared: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    #: Old → newest ids (and appIds) of objects recoveries re-created, as the report
    #: planned them (against the live tenant only; see ``recreated``).
    lineage: dict[str, str] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.compare_to is None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DiffState:
        values = dict(data)
        values["tasks"] = [TypeTask(**task) for task in values.get("tasks", [])]
        return cls(**values)
