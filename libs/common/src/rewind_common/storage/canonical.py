"""RFC 8785 canonical JSON at the speed a snapshot of 100,000 objects needs.

``domain.hashing.canonical_json`` (the ``rfc8785`` package, pure Python) takes about
200 µs for a user body: 20 s of CPU for a 100k-object tenant, more than reading it from
Graph. For the values Graph returns almost always (strings, integers, booleans, null,
arrays and objects with ASCII keys) orjson with sorted keys writes exactly the RFC 8785
bytes in about 3 µs: same escapes (``\\b \\f \\n \\r \\t``, other control characters as
lowercase ``\\u00xx``, everything else as raw UTF-8), no whitespace, keys in code-unit
order. Anything else (a float, a non-ASCII key, an integer beyond 2^53, a lone
surrogate) goes through ``rfc8785`` itself, so the bytes, and therefore every version
hash, are the same whichever path wrote them. ``tests/unit/tenant/test_canonical.py``
checks the two against each other on generated values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from rewind_common.domain.hashing import canonical_json as reference_canonical_json

_SAFE_INT = 2**53 - 1
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
#: Every float in orjson's output is a number in value position (right after ``":``,
#: ``[`` or ``,``; orjson writes no spaces) with a fraction or an exponent. With digits
#: and signs deleted, ``e``/``E`` read as ``.`` and ``[``/``,`` as ``:``, each becomes
#: ``:.``: its absence proves there is no float, in one search. A string holds it too
#: now and then ("10:30.5", and "SMTP:eva@..." in every address starting with an e):
#: then the exact marks are looked for, ``":.``, ``[.`` or ``,.`` with ``[`` and ``,``
#: kept (a colon inside a string is not after a quote), before the slowest check.
_FLOAT_TABLE = bytes.maketrans(b"eE[,", b"..::")
_EXACT_FLOAT_TABLE = bytes.maketrans(b"eE", b"..")
_DIGITS = b"0123456789+-"


def _simple(value: Any) -> bool:
    """Whether orjson's output for ``value`` is its RFC 8785 form."""
    stack = [value]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is str or kind is bool or current is None:
            continue
        if kind is int:
            if -_SAFE_INT <= current <= _SAFE_INT:
                continue
            return False
        if kind is dict:
            for key in current:
                if type(key) is not str or not key.isascii():
                    return False
            stack.extend(current.values())
            continue
        if kind is list:
            stack.extend(current)
            continue
        return False
    return True


def canonical_bytes(value: Mapping[str, Any] | list[Any]) -> bytes:
    """RFC 8785 bytes of ``value``, identical to ``domain.hashing.canonical_json``."""
    written = canonical_transient(value)
    return right_sized(written) if written is not None else reference_canonical_json(value)


def canonical_transient(value: Mapping[str, Any] | list[Any]) -> bytes | None:
    """``canonical_bytes(value)`` when orjson writes it, in orjson's own buffer (for bytes
    hashed and dropped, not kept); None when only the reference writes it."""
    try:
        # strict integers: anything beyond 53 bits is refused, like RFC 8785 does
        written = orjson.dumps(value, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return None  # a big integer or a lone surrogate
    # ASCII output has ASCII keys; without a float-like token it has no float.
    return written if (written.isascii() and _no_float(written)) or _simple(value) else None


def _no_float(written: bytes) -> bool:
    if b":." not in written.translate(_FLOAT_TABLE, _DIGITS):
        return True
    marked = written.translate(_EXACT_FLOAT_TABLE, _DIGITS)
    return b'":.' not in marked and b"[." not in marked and b",." not in marked


def canonical_strings(values: list[str]) -> bytes:
    """RFC 8785 bytes of a list of strings (a link set's ids), identical to
    ``domain.hashing.canonical_json``: with no keys to order and no numbers to write,
    orjson's output is already that form, its escapes being RFC 8785's."""
    try:
        return orjson.dumps(values, option=orjson.OPT_STRICT_INTEGER)
    except orjson.JSONEncodeError:
        return reference_canonical_json(values)  # a lone surrogate


def right_sized(written: bytes) -> bytes:
    """A copy of orjson's output in a buffer of its own size, for output that is kept.
    orjson leaves its output in the buffer it wrote into (4 KiB at least, grown by
    doubling): a user's 1.4 KB body holds 8 KB of memory, and a snapshot keeps a few
    thousand versions waiting for their pack."""
    return bytes(memoryview(written))


def content_hash(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()


def canonical_and_hash(value: Mapping[str, Any] | list[Any]) -> tuple[bytes, str]:
    """The canonical bytes of ``value`` and their SHA-256: a version's content and id."""
    canonical = canonical_bytes(value)
    return canonical, hashlib.sha256(canonical).hexdigest()
