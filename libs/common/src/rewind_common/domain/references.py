"""References between objects: find them, rewrite them, and tell whether they resolve.

The registry names every property that holds ids of other backed-up objects (CA policy
user and group lists, grant clients and resources...). A recovery writes such values
only when every object they name exists, or will exist once the recovery has restored
or re-created it: a CA policy whose excluded group is missing must keep failing rather
than be written without the exclusion, so a property with one unresolvable id is not
recoverable at all; it is never written as a reduced list.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from rewind_common.domain.paths import is_within, iter_paths, join_path, map_values, relative_path
from rewind_common.domain.records import JsonObject, LinkValue
from rewind_common.registry import ObjectType, Reference

#: Old id → new id for re-created objects. Object ids and appIds share one map: both
#: are GUIDs, so they never collide.
IdMap = Mapping[str, str]


class ReferenceResolver(Protocol):
    """What the recovery can see: the live tenant, and what it is about to bring back."""

    def exists_live(self, type: str, value: str, by: str) -> bool:
        """Whether an object of ``type`` whose ``by`` property is ``value`` exists now."""
        ...

    def will_exist(self, type: str, value: str, by: str) -> bool:
        """Whether the recovery restores or re-creates such an object (from the backup)."""
        ...


@dataclass(frozen=True)
class FoundReference:
    """One id found in a body: where (``location``, a concrete path with ``[n]``), under
    which registry path, and what it may point at."""

    path: str
    location: str
    value: str
    targets: tuple[str, ...]
    by: str = "id"
    external: bool = False

    def describe(self) -> str:
        """The reader-facing text for this reference when it does not resolve."""
        what = _or_list(self.targets)
        named = f"{what} with {self.by} {self.value}" if self.by != "id" else f"{what} {self.value}"
        return (
            f"unresolvable reference: {named} in {self.path} "
            "exists neither in the tenant nor in the backup"
        )


def _or_list(names: tuple[str, ...]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def is_literal(reference: Reference, value: str) -> bool:
    """Whether ``value`` is one of the field's keywords (``All``...), not an id.

    Graph matches these keywords case-insensitively, so this does too.
    """
    folded = value.casefold()
    return any(literal.casefold() == folded for literal in reference.literals)


def find_references(object_type: ObjectType, body: Mapping[str, Any]) -> list[FoundReference]:
    """Every id a whole body refers to (keywords excluded), in registry order."""
    return references_in(object_type, "", body)


def references_in(object_type: ObjectType, path: str, value: Any) -> list[FoundReference]:
    """The ids held by ``value``, found at ``path`` of a body of ``object_type``.

    ``path`` is a property path as a difference report names it; references at or below
    it are searched in ``value`` (``""`` means ``value`` is the whole body).
    """
    found: list[FoundReference] = []
    for reference in object_type.references:
        if path and not is_within(reference.path, path):
            continue
        below = relative_path(reference.path, path) if path else reference.path
        for location, held in iter_paths(value, below):
            where = _join(path, location)
            for spot, item in _strings(where, held):
                if not is_literal(reference, item):
                    found.append(
                        FoundReference(
                            path=reference.path,
                            location=spot,
                            value=item,
                            targets=reference.targets,
                            by=reference.by,
                            external=reference.external,
                        )
                    )
    return found


def _join(path: str, location: str) -> str:
    if not location:
        return path
    if location.startswith("[") or not path:
        return path + location
    return join_path(path, location)


def _strings(location: str, held: Any) -> list[tuple[str, str]]:
    if isinstance(held, str):
        return [(location, held)]
    if isinstance(held, list):
        return [(f"{location}[{i}]", item) for i, item in enumerate(held) if isinstance(item, str)]
    return []


def is_resolvable(
    resolver: ReferenceResolver, targets: Iterable[str], value: str, by: str = "id"
) -> bool:
    """Whether any of ``targets`` has an object with ``by`` = ``value`` now or after the
    recovery."""
    return any(
        resolver.exists_live(target, value, by) or resolver.will_exist(target, value, by)
        for target in targets
    )


def unresolvable(
    resolver: ReferenceResolver, references: Iterable[FoundReference]
) -> list[FoundReference]:
    """The references that name nothing the recovery can point at.

    External references (another tenant's application) are never unresolvable: the
    tenant cannot know every application in the world.
    """
    return [
        ref
        for ref in references
        if not ref.external and not is_resolvable(resolver, ref.targets, ref.value, ref.by)
    ]


def rewrite_references(
    object_type: ObjectType, body: Mapping[str, Any], id_map: IdMap
) -> JsonObject:
    """A copy of ``body`` where every referenced id in ``id_map`` is replaced by its new
    id (what a re-created object's dependants must point at). Keywords and unknown ids
    are kept as they are."""

    def rewrite(value: Any) -> Any:
        if isinstance(value, str):
            return id_map.get(value, value)
        if isinstance(value, list):
            return [id_map.get(v, v) if isinstance(v, str) else v for v in value]
        return value

    result: Any = copy.deepcopy(dict(body))
    for reference in object_type.references:
        result = map_values(result, reference.path, rewrite)
    return dict(result)


def rewrite_links(links: Mapping[str, LinkValue], id_map: IdMap) -> dict[str, LinkValue]:
    """Links with their target ids passed through ``id_map`` (many-valued links stay
    sorted and unique)."""
    out: dict[str, LinkValue] = {}
    for name, value in links.items():
        if isinstance(value, tuple):
            out[name] = tuple(sorted({id_map.get(v, v) for v in value}))
        elif isinstance(value, str):
            out[name] = id_map.get(value, value)
        else:
            out[name] = value
    return out
