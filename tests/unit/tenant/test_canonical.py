"""The fast canonical JSON writes exactly what RFC 8785 (the ``rfc8785`` package) writes,
or fails where it fails: version hashes do not depend on which path wrote them."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from rewind_common.domain.hashing import version_hash
from rewind_common.storage.canonical import canonical_and_hash, canonical_bytes, canonical_strings

KEYS = st.text(max_size=6) | st.sampled_from(["id", "displayName", "a:b", "x,y", "ключ", "😀"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(
        ["10:30.5", "SMTP:ada@contoso.com", "SMTP:eva@contoso.com", "1e5", ",e", "[.1"]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)


def _reference(value: Any) -> bytes | type[Exception]:
    try:
        return bytes(rfc8785.dumps(value))
    except Exception as exc:
        return type(exc)


def assert_writes_as_rfc8785(write: Callable[[Any], bytes], value: Any) -> None:
    """``write(value)`` is what ``rfc8785`` writes, or fails as it fails."""
    expected = _reference(value)
    if isinstance(expected, bytes):
        assert write(value) == expected
    else:
        with pytest.raises(expected):
            write(value)


@given(st.dictionaries(KEYS, JSON, max_size=6))
def test_canonical_bytes_equal_rfc8785(value: dict[str, Any]) -> None:
    assert_writes_as_rfc8785(canonical_bytes, value)


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1.5},
        {"a": [1e21, -0.0, 1e-7]},
        {"é": 1, "e": 2},
        {"\ud800": 1},
        {"s": '\x00\x1f\u2028"\\'},
        {"a": "x:1.5 [2e3"},
        {"a": "SMTP:eva@contoso.com", "b": 2.0},
        {"a": ["SMTP:eva@contoso.com", 2.0, 1e21]},
    ],
)
def test_values_that_leave_the_fast_path_still_match(value: dict[str, Any]) -> None:
    assert_writes_as_rfc8785(canonical_bytes, value)


@given(st.lists(st.text() | st.sampled_from(["\ud800", "a\u2028b", '"\\', "é", "😀"])))
def test_canonical_strings_equal_rfc8785(values: list[str]) -> None:
    # a link set's ids: hashed as RFC 8785 writes them, whatever characters they hold
    assert_writes_as_rfc8785(canonical_strings, values)


def test_integers_beyond_53_bits_are_refused_like_rfc8785() -> None:
    with pytest.raises(rfc8785.IntegerDomainError):
        canonical_bytes({"a": 2**53})


def test_the_hash_is_the_domain_version_hash() -> None:
    body = {"id": "0b8e1c2a-1111-4444-8888-123456789abc", "displayName": "Ada", "n": [1, 2]}
    assert canonical_and_hash(body)[1] == version_hash(body)


def test_a_version_kept_holds_about_its_own_size_in_memory() -> None:
    # A snapshot keeps thousands of versions waiting for their pack: each must cost what
    # it weighs, not the buffer orjson wrote it into.
    body = {f"property{i}": f"value of property {i}" for i in range(40)}
    size = len(canonical_bytes(body))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [canonical_bytes(body) for _ in range(1000)]
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(kept) == 1000
    assert held < 1000 * size * 1.5
