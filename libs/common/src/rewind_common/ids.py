"""Identifiers: time-ordered UUIDs (version 7, RFC 9562), so ids sort by creation time
and "newest first" paging is an index walk on ``_id``."""

from __future__ import annotations

import os
import threading
import time
import uuid

_RANDOM_BITS = 74  # rand_a (12 bits) and rand_b (62 bits) read as one number
_last = (0, 0)
_last_lock = threading.Lock()


def new_id() -> str:
    """A UUIDv7, increasing within the process even inside one millisecond (RFC 9562,
    6.2: the random part counts up), so ids sort in creation order."""
    global _last
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big") & ((1 << _RANDOM_BITS) - 1)
    with _last_lock:
        last_millis, last_rand = _last
        if millis <= last_millis:
            millis, rand = last_millis, last_rand + 1
            if rand >> _RANDOM_BITS:
                millis, rand = last_millis + 1, rand & ((1 << _RANDOM_BITS) - 1)
        _last = (millis, rand)
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= (rand >> 62) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return str(uuid.UUID(int=value))


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return len(value) == 36
