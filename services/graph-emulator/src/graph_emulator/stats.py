"""Counters for ``GET /_emulator/stats``: Graph requests only (each ``$batch``
sub-request counts on its own; the ``/_emulator`` endpoints are not counted)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    requests: int = 0
    reads: int = 0
    writes: int = 0
    resource_units: int = 0
    throttled: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)

    def record(self, method: str, route: str, status: int, units: int, *, kind: str | None) -> None:
        """``kind`` is ``read``, ``write`` or ``None`` (a ``$batch`` envelope is neither)."""
        self.requests += 1
        if kind == "read":
            self.reads += 1
        elif kind == "write":
            self.writes += 1
        self.resource_units += units
        if status == 429:
            self.throttled += 1
        self.by_status[str(status)] += 1
        self.by_route[f"{method} {route}"] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "reads": self.reads,
            "writes": self.writes,
            "resourceUnits": self.resource_units,
            "throttled": self.throttled,
            "byStatus": dict(sorted(self.by_status.items())),
            "byRoute": dict(sorted(self.by_route.items())),
        }
