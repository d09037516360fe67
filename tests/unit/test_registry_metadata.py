"""Every property the registry names exists, with a fitting type, in Graph's v1.0 metadata."""

from __future__ import annotations

import pytest

from graph_emulator.csdl import Schema, load_schema
from rewind_common.registry import ALL_TYPES, REGISTRY, ObjectType, dependency_order


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema()


def _named_properties(object_type: ObjectType) -> set[str]:
    names: set[str] = set(object_type.select)
    for group in (
        object_type.read_only,
        object_type.create_only,
        object_type.required_on_create,
        object_type.writable_only or frozenset(),
        object_type.volatile,
        object_type.synced_mastered,
        object_type.case_insensitive,
        object_type.word_sets,
        frozenset(object_type.not_recoverable),
    ):
        names |= group
    names |= {r.path for r in object_type.references}
    names |= {u.path for u in object_type.unordered}
    names |= {c.property for c in object_type.children}
    names.discard("@odata.type")
    return names


@pytest.mark.parametrize("object_type", ALL_TYPES, ids=lambda t: t.name)
def test_every_named_property_is_in_the_metadata(schema: Schema, object_type: ObjectType) -> None:
    missing = []
    for path in sorted(_named_properties(object_type)):
        try:
            schema.resolve_path(object_type.entity, path)
        except KeyError as exc:
            missing.append(str(exc))
    assert not missing, missing


@pytest.mark.parametrize("object_type", ALL_TYPES, ids=lambda t: t.name)
def test_unordered_collections_are_collections_and_keys_exist(
    schema: Schema, object_type: ObjectType
) -> None:
    for unordered in object_type.unordered:
        prop = schema.resolve_path(object_type.entity, unordered.path)
        assert prop.type.collection, f"{object_type.name}.{unordered.path} is not a collection"
        if unordered.key:
            assert not prop.type.is_primitive
            schema.resolve_path(object_type.entity, f"{unordered.path}[].{unordered.key}")


@pytest.mark.parametrize("object_type", ALL_TYPES, ids=lambda t: t.name)
def test_references_hold_strings_and_point_at_registered_types(
    schema: Schema, object_type: ObjectType
) -> None:
    for reference in object_type.references:
        prop = schema.resolve_path(object_type.entity, reference.path)
        assert prop.type.name in ("Edm.String", "Edm.Guid"), reference.path
        for target in reference.targets:
            target_type = REGISTRY[target]
            schema.resolve_path(target_type.entity, reference.by)


@pytest.mark.parametrize("object_type", ALL_TYPES, ids=lambda t: t.name)
def test_links_are_navigation_properties(schema: Schema, object_type: ObjectType) -> None:
    navigation = schema.properties(object_type.entity, navigation=True)
    for link in object_type.links:
        assert link.navigation in navigation, f"{object_type.name} has no {link.navigation}"
        assert navigation[link.navigation].type.collection == link.many
        for target in link.targets:
            assert target in REGISTRY


def test_derived_entities_derive_from_the_entity(schema: Schema) -> None:
    for object_type in ALL_TYPES:
        for derived in object_type.derived_entities:
            assert schema.is_subtype(derived, object_type.entity)


def test_dependency_order_puts_every_dependency_first() -> None:
    order = [t.name for t in dependency_order()]
    for object_type in ALL_TYPES:
        for dependency in object_type.depends_on:
            assert order.index(dependency) < order.index(object_type.name)
    assert order[0] == "namedLocation"
    assert order.index("conditionalAccessPolicy") > order.index("group")


def test_read_only_and_volatile_properties_are_never_writable() -> None:
    for object_type in ALL_TYPES:
        for prop in object_type.read_only | object_type.volatile:
            assert not object_type.is_writable(prop, creating=True), (object_type.name, prop)
