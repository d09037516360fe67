"""Reconciling the two shapes in which Graph returns one object.

A backup taken through a delta query holds only the properties Graph reports as set:
"properties that have never been set are not returned" by delta. A listing or a GET
returns every property of its default set, non-nullable Booleans and integers at their
default value (``false``, ``0``) when never set. Comparing those shapes as they are
would report every untouched ``false`` as drift. ``null``, missing and empty are already
equal in the comparison form (``domain.equivalence``); this adds the one equivalence it
cannot know without the metadata: a top-level property missing on one side and at its
non-nullable default on the other is unchanged. The differ compares aligned states and
the recoverer plans from them, so an untouched ``false`` is neither drift nor restored
as a ``null`` Graph refuses.

It cannot hide a change: a property set to ``true`` (or a non-zero number) at backup
time is present in the delta body, and a GET never leaves one out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import orjson

from rewind_common.domain.records import ObjectState


def _is_default(value: Any) -> bool:
    return value is False or (type(value) is int and value == 0)


def _without(body: Mapping[str, Any], names: set[str]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name not in names}


def aligned(
    backup: ObjectState | None, current: ObjectState | None
) -> tuple[ObjectState | None, ObjectState | None]:
    """Both states without the default-valued properties only one of them holds."""
    if backup is None or current is None:
        return backup, current
    only_backup = {n for n, v in backup.body.items() if n not in current.body and _is_default(v)}
    only_current = {n for n, v in current.body.items() if n not in backup.body and _is_default(v)}
    if only_backup:
        backup = replace(backup, body=_without(backup.body, only_backup))
    if only_current:
        current = replace(current, body=_without(current.body, only_current))
    return backup, current


def _essential(body: Mapping[str, Any]) -> bytes:
    kept = {
        name: value
        for name, value in body.items()
        if value is not None and value != [] and value != {} and not _is_default(value)
    }
    return orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)


def plainly_equal(backup: ObjectState, current: ObjectState) -> bool:
    """Whether two states are equal but for the spelling differences above (empty or
    default values present on one side only): the common case of an unchanged object
    read once through delta and once through a listing, decided without a full diff.
    ``False`` means "maybe different": the full comparison decides."""
    return (
        backup.deleted == current.deleted
        and dict(backup.links) == dict(current.links)
        and _essential(backup.body) == _essential(current.body)
    )


def align_all(
    backup: Iterable[ObjectState], live: Iterable[ObjectState]
) -> tuple[list[ObjectState], list[ObjectState]]:
    """Every pair of states of one object aligned; unpaired states kept as they are."""
    backups = {state.key: state for state in backup}
    lives = {state.key: state for state in live}
    for key in backups.keys() & lives.keys():
        b, c = aligned(backups[key], lives[key])
        assert b is not None
        assert c is not None
        backups[key], lives[key] = b, c
    return list(backups.values()), list(lives.values())
