"""``rewind diff`` helpers: scope from options, and how changes become table rows."""

from __future__ import annotations

import pytest
import typer

from rewind_api.cli.diff import build_scope, parse_objects
from rewind_api.cli.diff_render import VALUE_WIDTH, change_rows, value_text


def test_ids_are_grouped_by_type_in_the_order_given() -> None:
    objects = parse_objects(["user:a", "group:g", "user:b"])
    assert objects == [{"type": "user", "ids": ["a", "b"]}, {"type": "group", "ids": ["g"]}]


@pytest.mark.parametrize("value", ["user", "user:", ":id", ""])
def test_an_id_option_must_be_type_colon_id(value: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_objects([value])


def test_no_option_means_every_object() -> None:
    assert build_scope([], []) is None
    assert build_scope(["user"], []) == {"types": ["user"]}


def test_values_are_short_single_lines() -> None:
    assert value_text(None) == "(none)"
    assert value_text("Engineer") == "Engineer"
    assert value_text(["a", "b"]) == '["a", "b"]'
    long = value_text("x" * 500)
    assert len(long) == VALUE_WIDTH
    assert long.endswith("…")


def test_rows_name_each_property_and_link() -> None:
    change = {
        "properties": [{"path": "jobTitle", "backup": "Engineer", "current": None}],
        "links": {"members": {"added": ["n"], "removed": ["a", "b", "c", "d"]}},
    }
    assert change_rows(change) == [
        ("jobTitle", "Engineer → (none)"),
        ("members", "removed: a, b, c (+1 more); added: n"),
    ]
    assert change_rows({"properties": [], "links": {}}) == [("", "")]
