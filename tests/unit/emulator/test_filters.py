"""``$filter`` parsing and evaluation, and the other query options."""

from __future__ import annotations

import pytest

from graph_emulator.errors import GraphError
from graph_emulator.filters import evaluate, id_values, parse_filter
from graph_emulator.http import Request
from graph_emulator.query import parse_expand, parse_query, split_top_level

USER = {
    "id": "6a0e3c1f-0000-4000-8000-000000000001",
    "displayName": "Adele Vance",
    "accountEnabled": True,
    "city": None,
    "groupTypes": ["Unified"],
    "identities": [{"issuer": "contoso.com", "issuerAssignedId": "adelev"}],
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("id eq '6a0e3c1f-0000-4000-8000-000000000001'", True),
        ("id eq 6a0e3c1f-0000-4000-8000-000000000001", True),
        ("displayName eq 'adele vance'", True),  # case-insensitive like Entra
        ("startswith(displayName,'Ade')", True),
        ("startswith(displayName, 'Vance')", False),
        ("endswith(displayName,'vance')", True),
        ("accountEnabled eq true and city eq null", True),
        ("accountEnabled eq false or displayName ne 'x'", True),
        ("not (accountEnabled eq true)", False),
        ("displayName in ('Bob', 'Adele Vance')", True),
        ("groupTypes/any(c:c eq 'Unified')", True),
        ("identities/any(i:i/issuer eq 'contoso.com' and i/issuerAssignedId eq 'adelev')", True),
        ("displayName eq 'O''Brien'", False),
    ],
)
def test_evaluate(expression: str, expected: bool) -> None:
    assert evaluate(parse_filter(expression).node, USER) is expected


@pytest.mark.parametrize(
    "expression",
    [
        "displayName eq",
        "startswith(displayName",
        "displayName foo 'x'",
        "(id eq 'a'",
        "eq 'x'",
        "a eq 'x' b",
    ],
)
def test_syntax_errors_are_bad_requests(expression: str) -> None:
    with pytest.raises(GraphError) as error:
        parse_filter(expression)
    assert error.value.status == 400
    assert error.value.code == "BadRequest"


def test_id_values_and_operators() -> None:
    parsed = parse_filter("id eq 'a' or id eq 'b' or id in ('c','d')")
    assert id_values(parsed.node) == ["a", "b", "c", "d"]
    assert id_values(parse_filter("id eq 'a' and displayName eq 'x'").node) is None
    assert parse_filter("displayName ne 'x'").operators == {"ne"}
    assert parse_filter("groupTypes/any(c:c eq 'Unified')").properties == {"groupTypes"}


def request(query: str, **headers: str) -> Request:
    return Request(
        "GET", "/users", query, {k.lower(): v for k, v in headers.items()}, b"", "http://x"
    )


def test_parse_query() -> None:
    query = parse_query(
        request(
            "$select=id,displayName&$top=5&$count=true&$expand=manager($select=id)&foo=bar",
            ConsistencyLevel="eventual",
        )
    )
    assert query.select == ["id", "displayName"]
    assert query.top == 5
    assert query.advanced
    assert [(e.name, e.select) for e in query.expand] == [("manager", ["id"])]


@pytest.mark.parametrize(
    "query", ["$top=x", "$count=maybe", "$wat=1", "$top=1&$TOP=2", "$select=a,,b"]
)
def test_bad_query_options(query: str) -> None:
    with pytest.raises(GraphError) as error:
        parse_query(request(query))
    assert error.value.status == 400


def test_expand_parsing() -> None:
    assert split_top_level("owners($select=id,displayName),manager") == [
        "owners($select=id,displayName)",
        "manager",
    ]
    assert [e.name for e in parse_expand("members,owners")] == ["members", "owners"]
    with pytest.raises(GraphError):
        parse_expand("members($top=5)")
