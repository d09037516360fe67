"""Body checks against the metadata, the way Graph's OData reader does them."""

from __future__ import annotations

from typing import Any

import pytest

from graph_emulator.errors import GraphError
from graph_emulator.schema import convert_primitive, shapes


@pytest.mark.parametrize(
    ("edm", "value", "expected"),
    [
        ("Edm.Boolean", True, True),
        ("Edm.Boolean", "true", True),  # .NET Convert.ChangeType
        ("Edm.Boolean", " False ", False),
        ("Edm.Int32", "60", 60),
        ("Edm.Int32", 7, 7),
        ("Edm.Double", 1, 1),
        (
            "Edm.Guid",
            "6A0E3C1F-0000-4000-8000-000000000001",
            "6a0e3c1f-0000-4000-8000-000000000001",
        ),
        ("Edm.DateTimeOffset", "2021-04-22T22:10:13Z", "2021-04-22T22:10:13Z"),
        ("Edm.DateTimeOffset", "2021-04-23T00:10:13+02:00", "2021-04-22T22:10:13Z"),
        ("Edm.Binary", "aGVsbG8=", "aGVsbG8="),
        ("Edm.Date", "2024-01-31", "2024-01-31"),
        ("Edm.Duration", "PT1H", "PT1H"),
    ],
)
def test_conversions(edm: str, value: Any, expected: Any) -> None:
    assert convert_primitive(edm, value) == expected


@pytest.mark.parametrize(
    ("edm", "value"),
    [
        ("Edm.Boolean", "yes"),
        ("Edm.Boolean", 1),
        ("Edm.String", 5),
        ("Edm.String", True),
        ("Edm.Int32", 1.5),
        ("Edm.Int32", 2**40),
        ("Edm.Guid", "nope"),
        ("Edm.DateTimeOffset", "yesterday"),
        ("Edm.Binary", "MIIK.....AB"),
        ("Edm.String", {"a": 1}),
    ],
)
def test_rejections(edm: str, value: Any) -> None:
    with pytest.raises(GraphError) as error:
        convert_primitive(edm, value)
    assert error.value.code == "BadRequest"
    assert (
        "Cannot convert the literal" in error.value.message or "unexpected" in error.value.message
    )


def test_entity_checks() -> None:
    s = shapes()
    body = s.check_entity(
        "group",
        {"displayName": "x", "members@odata.bind": ["u"], "@odata.type": "#microsoft.graph.group"},
        directory=True,
    )
    assert body.values == {"displayName": "x"}
    assert body.binds == {"members": ["u"]}
    with pytest.raises(GraphError, match="Invalid property 'nope'"):
        s.check_entity("user", {"nope": 1}, directory=True)
    with pytest.raises(
        GraphError, match=r"does not exist on type 'microsoft\.graph\.conditionalAccessPolicy'"
    ):
        s.check_entity("conditionalAccessPolicy", {"nope": 1}, directory=False)
    with pytest.raises(
        GraphError,
        match=r"'includeDevices' does not exist on type "
        r"'microsoft\.graph\.conditionalAccessDevices'",
    ):
        s.check_entity(
            "conditionalAccessPolicy",
            {"conditions": {"devices": {"includeDevices": ["All"]}}},
            directory=False,
        )
    with pytest.raises(GraphError, match="could not be resolved"):
        s.check_entity("namedLocation", {"@odata.type": "#microsoft.graph.user"}, directory=False)
    with pytest.raises(GraphError, match="abstract"):
        s.check_entity(
            "ipNamedLocation", {"ipRanges": [{"cidrAddress": "10.0.0.0/8"}]}, directory=False
        )
    with pytest.raises(GraphError, match="StartArray"):
        s.check_entity("user", [], directory=True)


def test_materialize_fills_every_property() -> None:
    s = shapes()
    web = s.materialize("webApplication", {"redirectUris": ["https://x"]})
    assert web["redirectUris"] == ["https://x"]
    assert web["implicitGrantSettings"] is None
    assert web["redirectUriSettings"] == []
    role = s.materialize("appRole", {"id": "x"})
    assert role["isEnabled"] is False  # non-nullable Boolean: never null
