"""The object-type registry: one declarative entry per type drives snapshot, diff and
recovery. Adding a type is adding an entry to ``catalog.ALL_TYPES``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from rewind_common.errors import InvalidScope
from rewind_common.registry.catalog import ALL_TYPES
from rewind_common.registry.model import (
    ChildCollection,
    Contains,
    IdFormat,
    Link,
    Listing,
    ObjectType,
    Reference,
    SoftDelete,
    UnorderedCollection,
)

__all__ = [
    "ALL_TYPES",
    "REGISTRY",
    "ChildCollection",
    "Contains",
    "IdFormat",
    "Link",
    "Listing",
    "ObjectType",
    "Reference",
    "SoftDelete",
    "UnorderedCollection",
    "dependency_order",
    "get_type",
    "type_names",
]

REGISTRY: Mapping[str, ObjectType] = MappingProxyType({t.name: t for t in ALL_TYPES})


def get_type(name: str) -> ObjectType:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise InvalidScope(f"unknown object type {name!r}; known types: {known}") from None


def type_names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def dependency_order(names: Iterable[str] | None = None) -> list[ObjectType]:
    """Types in an order where every type comes after the types it depends on.

    The registry's own order breaks ties, so the result is stable.
    """
    wanted = set(REGISTRY) if names is None else {get_type(n).name for n in names}
    ordered: list[ObjectType] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def place(object_type: ObjectType) -> None:
        if object_type.name in placed:
            return
        if object_type.name in visiting:
            raise ValueError(f"dependency cycle through {object_type.name}")
        visiting.add(object_type.name)
        for dependency in object_type.depends_on:
            place(REGISTRY[dependency])
        visiting.discard(object_type.name)
        placed.add(object_type.name)
        ordered.append(object_type)

    for object_type in ALL_TYPES:
        place(object_type)
    return [t for t in ordered if t.name in wanted]
