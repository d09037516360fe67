"""Play a change's property and link differences onto a body or a link set.

``FORWARD`` takes a backup to the current state (applying ``diff(a, b)`` to ``a`` gives
a state equivalent to ``b``); ``REVERSE`` takes the current state back to the backup,
which is what a recovery writes and what a recovery plan shows as its "after" state.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from rewind_common.domain.changes import Change
from rewind_common.domain.paths import set_value
from rewind_common.domain.records import JsonObject, LinkValue, link_value
from rewind_common.registry import get_type


class Direction(StrEnum):
    FORWARD = "forward"  # backup → current: write each ``current`` value
    REVERSE = "reverse"  # current → backup: write each ``backup`` value (a recovery)


def apply_change(
    body: Mapping[str, Any],
    change: Change,
    *,
    direction: Direction = Direction.FORWARD,
    only_recoverable: bool = False,
) -> JsonObject:
    """A copy of ``body`` with the change's properties set to their other-side values.

    With ``only_recoverable``, properties a recovery cannot write are left as they are,
    which is the state a recovery actually reaches. Absent values are written as
    ``null``, which is equivalent to missing.
    """
    result: JsonObject = copy.deepcopy(dict(body))
    for prop in change.properties:
        if only_recoverable and not prop.recoverable:
            continue
        value = prop.current if direction is Direction.FORWARD else prop.backup
        set_value(result, prop.path, copy.deepcopy(value))
    return result


def apply_link_changes(
    links: Mapping[str, LinkValue],
    change: Change,
    *,
    direction: Direction = Direction.FORWARD,
    only_recoverable: bool = False,
) -> dict[str, LinkValue]:
    """``links`` with the change's link differences applied.

    Forward adds ``added`` and drops ``removed``; reverse does the opposite, except, with
    ``only_recoverable``, for targets that cannot be resolved (and for links that are not
    recoverable at all).
    """
    object_type = get_type(change.type)
    result = dict(links)
    for name, link_change in change.links.items():
        if only_recoverable and not link_change.recoverable:
            continue
        many = object_type.link(name).many
        value = result.get(name)
        targets = set(value) if isinstance(value, tuple) else ({value} if value else set())
        if direction is Direction.FORWARD:
            put, take = set(link_change.added), set(link_change.removed)
        else:
            put, take = set(link_change.removed), set(link_change.added)
            if only_recoverable:
                put -= set(link_change.unresolvable)
        targets = (targets - take) | put
        if not many and len(targets) > 1:
            # A single-valued link holds what was put, whatever stood there before.
            targets = put
        result[name] = link_value(targets, many=many)
    return result
