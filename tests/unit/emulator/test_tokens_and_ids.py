"""Opaque tokens, Graph's id formats and time formats."""

from __future__ import annotations

import random
import uuid

import pytest

from graph_emulator import paging
from graph_emulator.ids import (
    assignment_id,
    grant_id,
    is_guid,
    new_guid,
    precise_timestamp,
    security_identifier,
    timestamp,
)


def test_tokens_round_trip_and_reject_tampering() -> None:
    token = paging.encode({"s": "user", "l": "abc"})
    assert paging.decode(token) == {"s": "user", "l": "abc"}
    assert paging.decode(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]) is None
    assert paging.decode("not a token!") is None
    assert paging.decode("") is None


def test_a_token_stays_as_short_as_graphs_whatever_the_query_it_continues(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    select = [f"property{index}" for index in range(60)]
    ids = [str(uuid.uuid4()) for _ in range(50)]
    state = {"k": "user", "e": "e627274b", "s": select, "f": ids, "l": str(uuid.uuid4())}
    token = paging.encode(state)
    # Graph's users delta tokens in Microsoft's examples are 60 to 160 characters
    assert len(token) < 200
    assert paging.decode(token) == state
    assert paging.decode(paging.encode({"p": ["a", "b"]})) == {"p": ["a", "b"]}

    # the lists a token names are kept for the newest tokens; an older one expires
    monkeypatch.setattr(paging, "_LISTS_KEPT", 3)
    paging.encode({"s": ["a", "b", "c", "d", "e"]})
    assert paging.decode(token) == state, "used lately: kept"
    paging.encode({"s": ["f", "g", "h", "i", "j"]})
    paging.encode({"s": ["k", "l", "m", "n", "o"]})
    assert paging.decode(token) is None


def test_grant_id_is_graphs() -> None:
    # oauth2-permission-grant-01-response.json in Microsoft's docs.
    assert (
        grant_id(
            "b0d9b9e3-0ecf-4bfd-8dab-9273dd055a94",
            "7ea9e944-71ce-443d-811c-71e8047b557a",
            "3fbd929d-8c56-4462-851e-0eb9a7b3a2a5",
        )
        == "47nZsM8O_UuNq5Jz3QValETpqX7OcT1EgRxx6AR7VXqdkr0_VoxiRIUeDrmns6Kl"
    )
    assert len(grant_id(str(uuid.uuid4()), str(uuid.uuid4()), None)) == 43


def test_assignment_id_starts_with_the_principal() -> None:
    # approleassignment-01-response.json: principal 33ad69f9-… → "-WmtM5na7Uus0D8kI1yylp…".
    assert assignment_id("33ad69f9-da99-4bed-acd0-3f24235cb296").startswith("-WmtM5na7Uus0D8kI1yyl")


def test_security_identifier_is_entras() -> None:
    # group-m365-02-response.json in Microsoft's docs.
    assert (
        security_identifier("55ea2e8c-757f-4f2d-be9e-53c22e8c6a54")
        == "S-1-12-1-1441410700-1328379263-3260260030-1416268846"
    )


def test_guids() -> None:
    first, second = random.Random(1), random.Random(1)
    values = [new_guid(first) for _ in range(100)]
    assert values == [new_guid(second) for _ in range(100)]
    assert all(is_guid(v) and uuid.UUID(v).version == 4 for v in values)
    assert is_guid(new_guid())
    assert not is_guid("not-a-guid")


def test_timestamps() -> None:
    assert timestamp().endswith("Z")
    assert len(timestamp()) == 20
    assert len(precise_timestamp()) == 28
