from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rewind_common.domain.hashing import canonical_json, version_hash
from rewind_common.domain.merkle import MerkleBuilder, chained_root, merkle_root


@given(st.lists(st.binary(max_size=16), max_size=70))
def test_streaming_root_equals_rfc6962_definition(leaves: list[bytes]) -> None:
    builder = MerkleBuilder()
    for leaf in leaves:
        builder.add(leaf)
    assert builder.root == merkle_root(leaves)
    assert builder.count == len(leaves)


def test_changing_any_leaf_changes_the_root() -> None:
    leaves = [f"entry-{i}".encode() for i in range(13)]
    root = merkle_root(leaves)
    for index in range(len(leaves)):
        tampered = list(leaves)
        tampered[index] = b"tampered"
        assert merkle_root(tampered) != root


def test_chained_root_depends_on_the_previous_root() -> None:
    root = merkle_root([b"a"])
    assert chained_root(root, None) != chained_root(root, merkle_root([b"b"]))


def test_canonical_json_ignores_key_order_and_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1.0, "x"]}) == b'{"a":[1,"x"],"b":1}'
    assert version_hash({"a": 1, "b": 2}) == version_hash({"b": 2, "a": 1})
    assert version_hash({"a": 1}) != version_hash({"a": 2})
