"""Compare one object's backed-up state with its live (or later) state.

:func:`diff_object` implements DESIGN section 6's table:

============================== =================== ==============
backup          current        change              action
============================== =================== ==============
active          active         ``updated``         ``update``
active          active (links) ``linksChanged``    ``links``
active          soft-deleted   ``softDeleted``     ``restore``
active          gone           ``hardDeleted``     ``recreate``
absent          active         ``created``         ``softDelete``
soft-deleted    active         ``restored``        ``softDelete``
deleted/absent  deleted/absent (no change)
============================== =================== ==============

Properties are compared in their comparison form (:mod:`.equivalence`) and reported at
the deepest differing object path: objects are followed member by member, arrays are
reported whole. Reported values are the stored ones.

Every part of a change says whether a recovery can undo it. A change is recoverable
when at least one of its parts is (or its action needs no part, like a restore); its
``reason`` names the parts that are not.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from rewind_common.domain.changes import (
    ACTION_FOR,
    Change,
    ChangeKind,
    LinkChange,
    PropertyChange,
)
from rewind_common.domain.equivalence import (
    collection_delta,
    is_empty,
    is_ignored,
    is_unordered,
    values_equivalent,
)
from rewind_common.domain.paths import is_within, join_path
from rewind_common.domain.records import LinkValue, ObjectState
from rewind_common.domain.references import (
    FoundReference,
    ReferenceResolver,
    find_references,
    is_resolvable,
    references_in,
    unresolvable,
)
from rewind_common.registry import ObjectType, get_type

SYNCED_REASON = "synced from on-premises: change it in on-premises Active Directory"
CREATE_ONLY_REASON = "can be set only when the object is created; Graph refuses to change it"


def diff_object(
    backup: ObjectState | None,
    current: ObjectState | None,
    *,
    resolver: ReferenceResolver | None = None,
) -> Change | None:
    """The change between an object's backup and its current state, or ``None``.

    ``None`` for either side means the object is absent there (never backed up, or
    purged). With a ``resolver``, references the recovery would write are checked and
    unresolvable ones make their property (or a re-creation) not recoverable; without
    one every reference is assumed to resolve.
    """
    known = backup or current
    if known is None:
        return None
    if backup is not None and current is not None and backup.key != current.key:
        raise ValueError(f"cannot compare {backup.key} with {current.key}")
    object_type = get_type(known.type)
    backup_active = backup is not None and not backup.deleted
    current_active = current is not None and not current.deleted

    properties: list[PropertyChange] = []
    links: dict[str, LinkChange] = {}
    if backup_active and current is not None:
        assert backup is not None  # narrowed by backup_active
        if not object_type.immutable:
            properties = property_changes(object_type, backup.body, current.body)
        # A deleted object's links may not be readable: compare only those recorded.
        names = None if current_active else set(current.links)
        links = link_changes(object_type, backup.links, current.links, names=names)
        if current_active:
            if not properties and not links:
                return None
            kind = ChangeKind.UPDATED if properties else ChangeKind.LINKS_CHANGED
        else:
            kind = ChangeKind.SOFT_DELETED
    elif backup_active:
        assert backup is not None
        kind = ChangeKind.HARD_DELETED
        links = link_changes(object_type, backup.links, {})
    elif current_active:
        kind = ChangeKind.CREATED if backup is None else ChangeKind.RESTORED
    else:
        return None

    # What a recovery may write depends on the object as it is now (the backup when gone).
    synced = _is_synced(object_type, (current or known).body)
    properties = [_judge_property(object_type, p, synced, resolver) for p in properties]
    links = {
        name: _judge_link(object_type, name, link, synced, resolver) for name, link in links.items()
    }
    blockers, notes = _judge_action(kind, object_type, backup, current, resolver)
    recoverable, reason = _verdict(kind, properties, links, blockers, notes)
    display = (current.display_name if current is not None else None) or (
        backup.display_name if backup is not None else None
    )
    return Change(
        type=object_type.name,
        object_id=known.object_id,
        display_name=display,
        change=kind,
        action=ACTION_FOR[kind],
        properties=tuple(properties),
        links=links,
        recoverable=recoverable,
        reason=reason,
    )


def property_changes(
    object_type: ObjectType, backup: Mapping[str, Any], current: Mapping[str, Any]
) -> list[PropertyChange]:
    """Every differing property of two bodies, each at the deepest object path where it
    differs, all marked recoverable (:func:`diff_object` judges recoverability)."""
    out: list[PropertyChange] = []
    _walk(object_type, backup, current, "", out)
    return out


def _walk(
    object_type: ObjectType,
    backup: Mapping[str, Any],
    current: Mapping[str, Any],
    prefix: str,
    out: list[PropertyChange],
) -> None:
    names = list(backup) + [name for name in current if name not in backup]
    for name in names:
        path = join_path(prefix, name)
        if is_ignored(object_type, path, name):
            continue
        old, new = backup.get(name), current.get(name)
        if values_equivalent(object_type, path, old, new):
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            _walk(object_type, old, new, path, out)
            continue
        added = removed = None
        if is_unordered(object_type, path):
            added_list, removed_list = collection_delta(object_type, path, old, new)
            added, removed = tuple(copy.deepcopy(added_list)), tuple(copy.deepcopy(removed_list))
        out.append(
            PropertyChange(
                path=path,
                backup=copy.deepcopy(old),
                current=copy.deepcopy(new),
                added=added,
                removed=removed,
            )
        )


def link_changes(
    object_type: ObjectType,
    backup: Mapping[str, LinkValue],
    current: Mapping[str, LinkValue],
    *,
    names: set[str] | None = None,
) -> dict[str, LinkChange]:
    """Per link of the type: targets present now but not in the backup (``added``) and
    targets of the backup gone now (``removed``). A missing link counts as empty.
    ``names`` limits the comparison to those links."""
    out: dict[str, LinkChange] = {}
    for link in object_type.links:
        if names is not None and link.name not in names:
            continue
        before = _targets(backup.get(link.name))
        after = _targets(current.get(link.name))
        added = tuple(sorted(after - before))
        removed = tuple(sorted(before - after))
        if added or removed:
            out[link.name] = LinkChange(added=added, removed=removed)
    return out


def _targets(value: LinkValue | list[str]) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        return {value}
    return set(value)


def _is_synced(object_type: ObjectType, body: Mapping[str, Any]) -> bool:
    # Only types with mastered properties can be synced objects; the organization's
    # flag says the tenant synchronises, not that the object is mastered elsewhere.
    return bool(object_type.synced_mastered) and body.get("onPremisesSyncEnabled") is True


def _judge_property(
    object_type: ObjectType,
    prop: PropertyChange,
    synced: bool,
    resolver: ReferenceResolver | None,
) -> PropertyChange:
    for name, reason in object_type.not_recoverable.items():
        if is_within(prop.path, name):
            return prop.unrecoverable(reason)
    if synced and any(is_within(prop.path, name) for name in object_type.synced_mastered):
        return prop.unrecoverable(SYNCED_REASON)
    if any(is_within(prop.path, name) for name in object_type.create_only):
        return prop.unrecoverable(CREATE_ONLY_REASON)
    if resolver is not None:
        # The recovery writes the backup value: every id in it must resolve, or the
        # property is not written at all (never a reduced list).
        missing = unresolvable(resolver, references_in(object_type, prop.path, prop.backup))
        if missing:
            return prop.unrecoverable("; ".join(_unique(ref.describe() for ref in missing)))
    return prop


def _judge_link(
    object_type: ObjectType,
    name: str,
    change: LinkChange,
    synced: bool,
    resolver: ReferenceResolver | None,
) -> LinkChange:
    if synced and name in object_type.synced_mastered:
        return replace(change, recoverable=False, reason=SYNCED_REASON)
    if resolver is None or not change.removed:
        return change
    link = object_type.link(name)
    missing = tuple(t for t in change.removed if not is_resolvable(resolver, link.targets, t))
    if not missing:
        return change
    reason = "; ".join(
        FoundReference(path=name, location=name, value=target, targets=link.targets).describe()
        for target in missing
    )
    # Each membership is its own fact: the resolvable ones are still added back. A
    # single-valued link (manager) has nothing partial to fall back on.
    partial = link.many and (bool(change.added) or len(missing) < len(change.removed))
    return replace(change, recoverable=partial, reason=reason, unresolvable=missing)


def _judge_action(
    kind: ChangeKind,
    object_type: ObjectType,
    backup: ObjectState | None,
    current: ObjectState | None,
    resolver: ReferenceResolver | None,
) -> tuple[list[str], list[str]]:
    """Why the action itself cannot be taken (blockers), and what the reader should know
    about it even when it can (notes)."""
    blockers: list[str] = []
    notes: list[str] = []
    label = object_type.name
    if kind in (ChangeKind.CREATED, ChangeKind.RESTORED):
        assert current is not None
        if not object_type.creatable:
            blockers.append(f"the {label} cannot be deleted")
        elif _is_synced(object_type, current.body):
            blockers.append("synced from on-premises: delete it in on-premises Active Directory")
        elif not object_type.restorable:
            notes.append(
                f"{_article(label)} {label} has no deleted items: removing it deletes it "
                "permanently, the usual response to a rogue consent or assignment; the "
                "snapshot a recovery takes before its first write keeps it, so a recovery "
                "from that snapshot re-creates it"
            )
        elif object_type.deletes_permanently(current.body):
            condition = object_type.soft_delete_when
            which = (
                f"only objects with {condition.value!r} in {condition.path} go to deleted items"
                if condition is not None
                else "it would not go to deleted items"
            )
            blockers.append(
                f"deleting this {label} would be permanent ({which}); a recovery never "
                "hard-deletes: review it and delete it yourself if it is unwanted"
            )
    elif kind is ChangeKind.SOFT_DELETED:
        assert current is not None
        if not object_type.restorable:
            blockers.append(f"{_article(label)} {label} has no deleted items to restore it from")
        elif _is_synced(object_type, current.body):
            blockers.append(
                "synced from on-premises: restore it in on-premises Active Directory "
                "(synchronisation would delete it again)"
            )
    elif kind is ChangeKind.HARD_DELETED:
        assert backup is not None
        if not object_type.creatable:
            blockers.append(f"the {label} cannot be created through Graph")
        elif _is_synced(object_type, backup.body):
            blockers.append(
                "synced from on-premises: restore it in on-premises Active Directory; "
                "synchronisation re-creates it"
            )
        else:
            if resolver is not None:
                missing = unresolvable(resolver, find_references(object_type, backup.body))
                blockers.extend(_unique(ref.describe() for ref in missing))
            notes.append("re-created with a new id; references to the old id are rewritten")
            lost = [
                f"{name} ({reason})"
                for name, reason in object_type.not_recoverable.items()
                if not is_empty(backup.body.get(name))
            ]
            if lost:
                notes.append("re-created without " + "; ".join(lost))
    return blockers, notes


def _verdict(
    kind: ChangeKind,
    properties: list[PropertyChange],
    links: Mapping[str, LinkChange],
    blockers: list[str],
    notes: list[str],
) -> tuple[bool, str | None]:
    failing: dict[str, list[str]] = {}
    for prop in properties:
        if not prop.recoverable and prop.reason:
            failing.setdefault(prop.reason, []).append(prop.path)
    for name, link in links.items():
        if link.reason:
            failing.setdefault(link.reason, []).append(name)
    parts = [f"{', '.join(where)}: {reason}" for reason, where in failing.items()]
    if blockers:
        return False, "; ".join(_unique([*blockers, *parts]))
    # A restore, re-creation or soft delete is worth doing even when no part is.
    acts_alone = kind not in (ChangeKind.UPDATED, ChangeKind.LINKS_CHANGED)
    any_part = any(p.recoverable for p in properties) or any(
        link.recoverable for link in links.values()
    )
    recoverable = acts_alone or any_part
    pieces = list(notes)
    if parts:
        pieces.append(("not recoverable: " if recoverable else "") + "; ".join(parts))
    return recoverable, "; ".join(pieces) or None


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeio" else "a"


def _unique(items: Any) -> list[str]:
    return list(dict.fromkeys(items))
