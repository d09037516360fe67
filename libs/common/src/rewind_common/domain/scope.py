"""Which objects a difference report or a recovery covers.

The JSON shape (DESIGN section 7) is ``{"types": [...]}``, ``{"objects": [{"type": ...,
"ids": [...]}]}``, or both keys together (every object of the listed types plus the
listed objects); an absent scope (``None``) means every supported object. An empty
scope object ``{}`` is refused rather than read as "everything": a script that built
its scope from an empty selection must not recover the whole tenant.

Ids are validated against their type's id format: GUIDs for directory objects, CA
policies, named locations and the organization (compared case-insensitively, kept in
lower case as Graph returns them); Graph's base64url ids for grants and app role
assignments (case-sensitive); the type's own name for singletons.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from rewind_common.errors import InvalidScope
from rewind_common.registry import REGISTRY, IdFormat, ObjectType, type_names

MAX_SCOPE_IDS = 10_000

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Grants are 43 or 64 characters, assignments 43; leave room for other lengths Graph
# may use without accepting anything that is not base64url.
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_EXAMPLES = {
    IdFormat.GUID: "a GUID such as 87d349ed-44d7-43e1-9a83-5f2406dee5bd",
    IdFormat.BASE64URL: "a base64url id such as 47nZsM8O_UuNq5Jz3QValCxBBiqJea9Drc9CMK4Ru_M",
}


def canonical_id(object_type: ObjectType, object_id: str) -> str | None:
    """The id as Graph spells it, or ``None`` if it is not a valid id of the type."""
    if object_type.id_format is IdFormat.GUID:
        return object_id.lower() if _GUID.match(object_id) else None
    if object_type.id_format is IdFormat.BASE64URL:
        return object_id if _BASE64URL.match(object_id) else None
    return object_type.name if object_id.casefold() == object_type.name.casefold() else None


def _expected(object_type: ObjectType) -> str:
    return _EXAMPLES.get(object_type.id_format, f"the singleton's id {object_type.name!r}")


@dataclass(frozen=True)
class Scope:
    """Whole types, plus individual objects of other types. Empty means everything."""

    types: frozenset[str] = frozenset()
    objects: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def everything(cls) -> Scope:
        return cls()

    @property
    def is_everything(self) -> bool:
        return not self.types and not self.objects

    @property
    def id_count(self) -> int:
        return sum(len(ids) for ids in self.objects.values())

    def object_types(self) -> tuple[str, ...]:
        """The types the scope touches, in registry order."""
        if self.is_everything:
            return type_names()
        return tuple(n for n in type_names() if n in self.types or n in self.objects)

    def ids(self, type_name: str) -> frozenset[str] | None:
        """The ids in scope for a type: ``None`` when the whole type is, empty when none."""
        if self.is_everything or type_name in self.types:
            return None
        return self.objects.get(type_name, frozenset())

    def includes_type(self, type_name: str) -> bool:
        """Whether any object of the type may be in scope."""
        return type_name in REGISTRY and (
            self.is_everything or type_name in self.types or type_name in self.objects
        )

    def includes(self, type_name: str, object_id: str) -> bool:
        """Whether the object is in scope (ids compared as the type's format demands)."""
        if not self.includes_type(type_name):
            return False
        wanted = self.ids(type_name)
        if wanted is None:
            return True
        canonical = canonical_id(REGISTRY[type_name], object_id)
        return canonical is not None and canonical in wanted

    def to_dict(self) -> dict[str, Any] | None:
        """The JSON shape; ``None`` for everything (an absent scope)."""
        if self.is_everything:
            return None
        out: dict[str, Any] = {}
        if self.types:
            out["types"] = [n for n in type_names() if n in self.types]
        if self.objects:
            out["objects"] = [
                {"type": n, "ids": sorted(self.objects[n])}
                for n in type_names()
                if n in self.objects
            ]
        return out

    @classmethod
    def from_dict(cls, data: Any, *, max_ids: int = MAX_SCOPE_IDS) -> Scope:
        """Validate a scope as a client sent it. Raises :class:`InvalidScope` naming the
        offending entry; duplicates are collapsed before ``max_ids`` is enforced."""
        if data is None:
            return cls.everything()
        if not isinstance(data, Mapping):
            raise _invalid('scope must be an object with "types" and/or "objects"', "")
        unknown = sorted(set(data) - {"types", "objects"})
        if unknown:
            raise _invalid(
                f'scope has an unknown field {unknown[0]!r}; expected "types" and/or "objects"',
                unknown[0],
            )
        if not data:
            raise _invalid("scope names no types and no objects; omit it to cover every object", "")
        types = _parse_types(data["types"]) if "types" in data else frozenset()
        objects = _parse_objects(data["objects"], max_ids) if "objects" in data else {}
        # Objects of a type that is in scope as a whole add nothing.
        kept = {name: ids for name, ids in objects.items() if name not in types}
        return cls(types=types, objects=MappingProxyType(kept))


def _invalid(message: str, where: str) -> InvalidScope:
    return InvalidScope(message, details={"field": f"scope.{where}" if where else "scope"})


def _type_at(value: Any, where: str) -> ObjectType:
    if not isinstance(value, str) or value not in REGISTRY:
        known = ", ".join(type_names())
        raise _invalid(f"scope.{where}: unknown object type {value!r}; known types: {known}", where)
    return REGISTRY[value]


def _parse_types(value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not value:
        raise _invalid("scope.types must be a non-empty list of type names", "types")
    return frozenset(_type_at(item, f"types[{i}]").name for i, item in enumerate(value))


def _parse_objects(value: Any, max_ids: int) -> dict[str, frozenset[str]]:
    if not isinstance(value, list) or not value:
        raise _invalid(
            'scope.objects must be a non-empty list of {"type", "ids"} entries', "objects"
        )
    collected: dict[str, set[str]] = {}
    total = 0
    for index, entry in enumerate(value):
        where = f"objects[{index}]"
        if not isinstance(entry, Mapping) or set(entry) != {"type", "ids"}:
            raise _invalid(f'scope.{where} must be an object with exactly "type" and "ids"', where)
        object_type = _type_at(entry["type"], f"{where}.type")
        ids = entry["ids"]
        if not isinstance(ids, list) or not ids:
            raise _invalid(f"scope.{where}.ids must be a non-empty list of object ids", where)
        seen = collected.setdefault(object_type.name, set())
        for position, raw in enumerate(ids):
            spot = f"{where}.ids[{position}]"
            canonical = canonical_id(object_type, raw) if isinstance(raw, str) else None
            if canonical is None:
                raise _invalid(
                    f"scope.{spot}: {raw!r} is not a valid {object_type.name} id "
                    f"(expected {_expected(object_type)})",
                    spot,
                )
            if canonical not in seen:
                seen.add(canonical)
                total += 1
                if total > max_ids:
                    raise _invalid(
                        f"scope names more than {max_ids:,} distinct object ids; split the "
                        "work or scope by type",
                        spot,
                    )
    return {name: frozenset(ids) for name, ids in collected.items()}
