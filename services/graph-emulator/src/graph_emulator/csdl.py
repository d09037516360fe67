"""Microsoft Graph v1.0 metadata (CSDL), loaded into a small typed model.

The emulator validates request bodies and shapes responses with it; the tests use it as
the oracle for property names and value types. The file is Microsoft's published
``cleanMetadata.xml`` (MIT licence), shipped in ``graph_emulator/data``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
_NAMESPACE = "microsoft.graph"
_ALIAS = "graph"


@dataclass(frozen=True)
class TypeRef:
    """A property's type: ``Edm.String``, ``microsoft.graph.passwordProfile``..."""

    name: str
    collection: bool

    @property
    def is_primitive(self) -> bool:
        return self.name.startswith("Edm.")

    @property
    def local_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Property:
    name: str
    type: TypeRef
    nullable: bool
    navigation: bool = False


@dataclass
class StructuredType:
    """An entity or complex type with its own (not inherited) members."""

    name: str
    kind: str  # "entity" | "complex"
    base: str | None
    abstract: bool
    open_type: bool
    own: dict[str, Property] = field(default_factory=dict)


@dataclass(frozen=True)
class EnumType:
    name: str
    members: frozenset[str]
    flags: bool


def _qualify(raw: str) -> TypeRef:
    collection = raw.startswith("Collection(")
    inner = raw[len("Collection(") : -1] if collection else raw
    if inner.startswith(_ALIAS + "."):
        inner = _NAMESPACE + inner[len(_ALIAS) :]
    return TypeRef(inner, collection)


class Schema:
    """The ``microsoft.graph`` namespace of the v1.0 metadata."""

    def __init__(self, root: ET.Element) -> None:
        self.types: dict[str, StructuredType] = {}
        self.enums: dict[str, EnumType] = {}
        for schema in root.iter(f"{_EDM}Schema"):
            namespace = schema.get("Namespace", "")
            for element in schema:
                tag = element.tag.removeprefix(_EDM)
                name = f"{namespace}.{element.get('Name')}"
                if tag in ("EntityType", "ComplexType"):
                    self.types[name] = self._structured(element, name, tag)
                elif tag == "EnumType":
                    members = frozenset(m.get("Name", "") for m in element.iter(f"{_EDM}Member"))
                    self.enums[name] = EnumType(
                        name, members, element.get("IsFlags", "false") == "true"
                    )
        self._derived: dict[str, set[str]] = {}
        for type_ in self.types.values():
            if type_.base:
                self._derived.setdefault(type_.base, set()).add(type_.name)

    @staticmethod
    def _structured(element: ET.Element, name: str, tag: str) -> StructuredType:
        base = element.get("BaseType")
        type_ = StructuredType(
            name=name,
            kind="entity" if tag == "EntityType" else "complex",
            base=_qualify(base).name if base else None,
            abstract=element.get("Abstract", "false") == "true",
            open_type=element.get("OpenType", "false") == "true",
        )
        for child in element:
            child_tag = child.tag.removeprefix(_EDM)
            if child_tag not in ("Property", "NavigationProperty"):
                continue
            prop = Property(
                name=child.get("Name", ""),
                type=_qualify(child.get("Type", "")),
                nullable=child.get("Nullable", "true") != "false",
                navigation=child_tag == "NavigationProperty",
            )
            type_.own[prop.name] = prop
        return type_

    def qualified(self, name: str) -> str:
        """``user`` / ``graph.user`` / ``#microsoft.graph.user`` → ``microsoft.graph.user``."""
        name = name.lstrip("#")
        if name.startswith(_ALIAS + "."):
            return _NAMESPACE + name[len(_ALIAS) :]
        if "." not in name:
            return f"{_NAMESPACE}.{name}"
        return name

    def get(self, name: str) -> StructuredType:
        return self.types[self.qualified(name)]

    def lineage(self, name: str) -> list[StructuredType]:
        """The type and its base types, most derived first."""
        chain: list[StructuredType] = []
        current: str | None = self.qualified(name)
        while current:
            type_ = self.types[current]
            chain.append(type_)
            current = type_.base
        return chain

    def properties(self, name: str, *, navigation: bool = False) -> dict[str, Property]:
        """Every structural property of a type, inherited ones included."""
        merged: dict[str, Property] = {}
        for type_ in reversed(self.lineage(name)):
            for prop in type_.own.values():
                if prop.navigation == navigation:
                    merged[prop.name] = prop
        return merged

    def is_subtype(self, name: str, ancestor: str) -> bool:
        target = self.qualified(ancestor)
        return any(t.name == target for t in self.lineage(name))

    def derived(self, name: str) -> set[str]:
        """Every type deriving (directly or not) from ``name``."""
        out: set[str] = set()
        pending = [self.qualified(name)]
        while pending:
            for child in self._derived.get(pending.pop(), ()):
                if child not in out:
                    out.add(child)
                    pending.append(child)
        return out

    def resolve_path(self, type_name: str, path: str) -> Property:
        """Follow a registry path (``conditions.users.excludeGroups``, ``a[].b``) to its
        property. Raises ``KeyError`` naming the first step that does not exist."""
        current = self.qualified(type_name)
        prop: Property | None = None
        for raw_step in path.split("."):
            step = raw_step.removesuffix("[]")
            candidates = [current, *sorted(self.derived(current))]
            found = None
            for candidate in candidates:
                found = self.properties(candidate).get(step) or self.properties(
                    candidate, navigation=True
                ).get(step)
                if found:
                    break
            if found is None:
                raise KeyError(f"{type_name}: {path!r}: no property {step!r} on {current}")
            prop = found
            current = found.type.name
        assert prop is not None
        return prop


@cache
def load_schema() -> Schema:
    """The packaged v1.0 metadata, parsed once per process."""
    data = resources.files("graph_emulator").joinpath("data/v1.0-metadata.xml").read_bytes()
    return Schema(ET.fromstring(data))  # noqa: S314 (the packaged metadata file)
