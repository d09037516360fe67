"""Routing of Graph's URL forms, and throttling arithmetic."""

from __future__ import annotations

import pytest

from graph_emulator.config import Throttling
from graph_emulator.emulator import build_router
from graph_emulator.errors import GraphError
from graph_emulator.filters import parse_filter
from graph_emulator.query import Query
from graph_emulator.router import normalize
from graph_emulator.throttling import Throttle, resource_units


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("delta()", ["delta"]),
        ("microsoft.graph.delta", ["delta"]),
        ("graph.user", ["microsoft.graph.user"]),
        ("microsoft.graph.servicePrincipal", ["microsoft.graph.servicePrincipal"]),
        ("applications(appId='x')", ["applications", "(appId='x')"]),
        ("users", ["users"]),
    ],
)
def test_normalize(segment: str, expected: list[str]) -> None:
    assert normalize(segment) == expected


def test_routes() -> None:
    router = build_router()
    assert router.match("GET", "/users/delta()").template == "/users/delta"
    assert router.match("GET", "/Users/abc").params == {"id": "abc"}
    assert router.match("GET", "/directory/deletedItems/graph.user").template.endswith(
        "microsoft.graph.user"
    )
    assert router.match("DELETE", "/groups/g/members/m/$ref").params == {"id": "g", "targetId": "m"}
    with pytest.raises(GraphError) as unknown:
        router.match("GET", "/users/x/widgets")
    assert unknown.value.message == "Resource not found for the segment 'widgets'."
    with pytest.raises(GraphError) as method:
        router.match("PUT", "/users")
    assert method.value.status == 405


def test_resource_units() -> None:
    assert resource_units("GET", "/users", Query()) == 2
    assert resource_units("GET", "/users", Query(select=["id"])) == 1
    assert resource_units("GET", "/groups/{id}/members", Query(top=10)) == 2
    assert resource_units("GET", "/groups/{id}/members", Query(expand=[])) == 3
    assert resource_units("GET", "/users/{id}", Query(select=["id"], top=5)) == 1
    assert resource_units("PATCH", "/users/{id}", None) == 1
    assert parse_filter("id eq 'x'")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_read_window_and_retry_after() -> None:
    clock = Clock()
    settings = Throttling(enabled=True, read_units_per_10s=4, writes_per_150s=2)
    throttle = Throttle(lambda: settings, clock)
    throttle.admit("/users", 2, write=False, app_id="a", tenant_id="t")
    clock.now += 3
    throttle.admit("/users", 2, write=False, app_id="a", tenant_id="t")
    with pytest.raises(GraphError) as error:
        throttle.admit("/users", 1, write=False, app_id="a", tenant_id="t")
    assert error.value.status == 429
    # The first 2 units free up 10 s after they were spent, 7 s from now.
    assert error.value.headers["Retry-After"] == "7"
    assert error.value.headers["x-ms-throttle-scope"] == "Tenant_Application/Read/a/t"
    clock.now += 7
    throttle.admit("/users", 1, write=False, app_id="a", tenant_id="t")


def test_writes_and_conditional_access() -> None:
    clock = Clock()
    settings = Throttling(enabled=True, writes_per_150s=2)
    throttle = Throttle(lambda: settings, clock)
    throttle.admit("/groups", 1, write=True, app_id="a", tenant_id="t")
    throttle.admit("/identity/conditionalAccess/policies", 1, write=True, app_id="a", tenant_id="t")
    with pytest.raises(GraphError) as ca:
        throttle.admit(
            "/identity/conditionalAccess/policies/x", 1, write=True, app_id="a", tenant_id="t"
        )
    assert "Retry-After" not in ca.value.headers  # CA throttling sends none (docs)
    clock.now += 1
    with pytest.raises(GraphError) as writes:
        throttle.admit("/groups", 1, write=True, app_id="a", tenant_id="t")
    assert writes.value.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert int(writes.value.headers["Retry-After"]) == 149
    disabled = Throttle(lambda: Throttling(enabled=False), clock)
    assert disabled.admit("/groups", 1, write=True, app_id="a", tenant_id="t") == {}
