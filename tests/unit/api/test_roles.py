"""Roles are ordered: each includes what the roles below it may do."""

from __future__ import annotations

import pytest

from rewind_api.auth import required_role
from rewind_common.storage.tokens import Role


@pytest.mark.parametrize(
    ("held", "needed", "allowed"),
    [
        (Role.READER, Role.READER, True),
        (Role.READER, Role.OPERATOR, False),
        (Role.READER, Role.ADMIN, False),
        (Role.OPERATOR, Role.READER, True),
        (Role.OPERATOR, Role.OPERATOR, True),
        (Role.OPERATOR, Role.ADMIN, False),
        (Role.ADMIN, Role.READER, True),
        (Role.ADMIN, Role.OPERATOR, True),
        (Role.ADMIN, Role.ADMIN, True),
    ],
)
def test_a_role_allows_itself_and_weaker_roles(held: Role, needed: Role, allowed: bool) -> None:
    assert held.allows(needed) is allowed


def test_ranks_follow_the_declared_order() -> None:
    assert [role.rank for role in Role] == [0, 1, 2]
    assert sorted(Role, key=lambda r: r.rank) == [Role.READER, Role.OPERATOR, Role.ADMIN]


def test_a_route_requires_its_strongest_scope() -> None:
    assert required_role([]) is Role.READER
    assert required_role(["operator"]) is Role.OPERATOR
    assert required_role(["reader", "admin", "operator"]) is Role.ADMIN
