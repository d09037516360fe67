"""Ids sort in creation order, even when many are made within one millisecond."""

from __future__ import annotations

import uuid

from rewind_common.ids import new_id


def test_ids_made_in_a_burst_sort_in_the_order_they_were_made() -> None:
    ids = [new_id() for _ in range(5000)]  # far more than one a millisecond
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 7 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)
