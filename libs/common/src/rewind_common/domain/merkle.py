"""A Merkle tree over a snapshot's manifest, computed in one streaming pass.

The tree is RFC 6962's (Certificate Transparency): leaves are ``H(0x00 || data)``,
interior nodes ``H(0x01 || left || right)``, and the split point is the largest power of
two below the leaf count. Appending leaves while merging equal-height subtrees, then
folding the remaining subtrees from the right, builds exactly that tree with O(log n)
memory, so a manifest of any size is hashed without holding it.

A snapshot's root chains to its predecessor's: ``H(0x02 || manifest root || previous
root)``, so altering an old snapshot breaks the roots of every later one.
"""

from __future__ import annotations

import hashlib

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleBuilder:
    """Feed leaves in manifest order with ``add``; read ``root`` at the end."""

    def __init__(self) -> None:
        # (height, hash) of complete subtrees, heights strictly decreasing left to right
        self._stack: list[tuple[int, bytes]] = []
        self.count = 0

    def add(self, data: bytes) -> None:
        height, digest = 0, _leaf(data)
        while self._stack and self._stack[-1][0] == height:
            _, left = self._stack.pop()
            digest = _node(left, digest)
            height += 1
        self._stack.append((height, digest))
        self.count += 1

    @property
    def root(self) -> str:
        if not self._stack:
            return EMPTY_ROOT
        digest = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            digest = _node(left, digest)
        return digest.hex()


def merkle_root(leaves: list[bytes]) -> str:
    """Reference (recursive) definition, used by the tests to check the streaming one."""

    def subtree(items: list[bytes]) -> bytes:
        if len(items) == 1:
            return _leaf(items[0])
        split = 1
        while split * 2 < len(items):
            split *= 2
        return _node(subtree(items[:split]), subtree(items[split:]))

    return subtree(leaves).hex() if leaves else EMPTY_ROOT


def chained_root(manifest_root: str, previous_root: str | None) -> str:
    """The root a snapshot publishes: its manifest's root bound to its predecessor's."""
    previous = bytes.fromhex(previous_root) if previous_root else b""
    return hashlib.sha256(b"\x02" + bytes.fromhex(manifest_root) + previous).hexdigest()
