"""A reference resolver over fixed sets, standing in for the live tenant and the plan."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FakeResolver:
    """``live`` and ``planned`` hold ``(type, by, value)`` triples."""

    live: set[tuple[str, str, str]] = field(default_factory=set)
    planned: set[tuple[str, str, str]] = field(default_factory=set)

    def exists_live(self, type: str, value: str, by: str) -> bool:
        return (type, by, value) in self.live

    def will_exist(self, type: str, value: str, by: str) -> bool:
        return (type, by, value) in self.planned

    def add_live(self, type: str, *values: str, by: str = "id") -> FakeResolver:
        self.live.update((type, by, v) for v in values)
        return self

    def add_planned(self, type: str, *values: str, by: str = "id") -> FakeResolver:
        self.planned.update((type, by, v) for v in values)
        return self


class EverythingResolves:
    def exists_live(self, type: str, value: str, by: str) -> bool:
        return True

    def will_exist(self, type: str, value: str, by: str) -> bool:
        return True
