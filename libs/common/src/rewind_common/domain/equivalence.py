"""When two values of one object type mean the same thing to Microsoft Graph.

Graph answers the same object in different spellings: ``null``, a missing property and
an empty collection are the same setting; the order of an unordered collection (CA
policy user lists, redirect URIs, app roles...) carries no meaning; some values compare
case-insensitively (user principal names); some properties change on their own
(timestamps) or are set by the service (``securityIdentifier``). Reporting any of that
as drift would bury real changes, so every comparison goes through the *comparison form*
defined here, driven by the type's registry entry:

- volatile and read-only properties, the object's key and OData control annotations are
  dropped (``@odata.type`` stays: it names the derived type); when a type lists the only
  properties an update may carry (``writable_only``), every other property is dropped;
  create-only properties stay, a difference there is real even if it cannot be written;
- ``null``, ``[]`` and ``{}`` are dropped, recursively, so an object whose members are
  all empty is itself empty;
- unordered collections are sorted (and their scalar elements de-duplicated); object
  elements sort by their registry key, then by their canonical JSON;
- strings under case-insensitive properties are case-folded;
- space-separated word sets (a grant's ``scope``) become their sorted words;
- integral floats become integers (``1.0`` and ``1`` are the same JSON number), while
  ``true`` and ``1`` stay different.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rewind_common.domain.normalize import is_annotation
from rewind_common.domain.paths import is_within, join_path, parse_path
from rewind_common.registry import ObjectType


@dataclass(frozen=True)
class _Rules:
    ignored: frozenset[str]
    nested_ignored: frozenset[str]
    writable_only: frozenset[str] | None
    unordered: Mapping[str, str | None]
    case_insensitive: frozenset[str]
    word_sets: frozenset[str]

    def ignores(self, path: str, name: str) -> bool:
        """``name`` is the last step of ``path``, passed to spare re-parsing it."""
        if is_annotation(name):
            return True
        if path in self.ignored:
            return True
        top = _top_name(path)
        if top in self.ignored or any(is_within(path, p) for p in self.nested_ignored):
            return True
        return self.writable_only is not None and top not in self.writable_only

    def under_case_insensitive(self, path: str) -> bool:
        return any(is_within(path, p) for p in self.case_insensitive)


def _top_name(path: str) -> str:
    # Plain splitting, not parse_path: a stray key holding "[" must not break a diff.
    return _TOP.split(path, maxsplit=1)[0]


_TOP = re.compile(r"[.\[]")
_RULES: dict[str, tuple[ObjectType, _Rules]] = {}


def _rules(object_type: ObjectType) -> _Rules:
    cached = _RULES.get(object_type.name)
    if cached is not None and cached[0] is object_type:
        return cached[1]
    ignored = frozenset(object_type.volatile | object_type.read_only | {object_type.key})
    if not object_type.derived_entities:
        # Only derived types need it; deleted items and some answers carry it for any type.
        ignored |= {"@odata.type"}
    rules = _Rules(
        ignored=ignored,
        # Registry paths are top-level names today; nested ones still work.
        nested_ignored=frozenset(p for p in ignored if "." in p or "[" in p),
        writable_only=object_type.writable_only,
        unordered={u.path: u.key for u in object_type.unordered},
        case_insensitive=object_type.case_insensitive,
        word_sets=object_type.word_sets,
    )
    _RULES[object_type.name] = (object_type, rules)
    return rules


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_text(value: Any) -> str:
    """Compact JSON with sorted keys: equal texts mean equal JSON values."""
    return _ENCODER.encode(value)


def is_empty(value: Any) -> bool:
    """``null``, ``[]``, ``{}``, or an object whose members are all empty."""
    if value is None:
        return True
    if isinstance(value, Mapping):
        return all(is_empty(item) for item in value.values())
    return isinstance(value, list) and not value


def is_ignored(object_type: ObjectType, path: str, name: str | None = None) -> bool:
    """Whether differences at ``path`` are never reported (volatile, read-only, key,
    annotation, or outside ``writable_only``). ``name``, the path's last property name,
    may be passed by callers that already know it."""
    if name is None:
        steps = parse_path(path)
        last = steps[-1] if steps else ""
        name = last if isinstance(last, str) else ""
    return _rules(object_type).ignores(path, name)


def is_unordered(object_type: ObjectType, path: str) -> bool:
    """Whether the registry declares the collection at ``path`` unordered."""
    return path in _rules(object_type).unordered


def comparison_form(object_type: ObjectType, body: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form of a whole body; equivalent bodies have equal forms."""
    return _canon_object(_rules(object_type), body, "", folded=False) or {}


def canonical_value(object_type: ObjectType, path: str, value: Any) -> Any:
    """The comparison form of ``value`` found at ``path`` (``None`` when empty)."""
    rules = _rules(object_type)
    return _canon(rules, value, path, folded=rules.under_case_insensitive(path))


def equivalent(object_type: ObjectType, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two bodies of ``object_type`` are the same object state for Graph."""
    return canonical_text(comparison_form(object_type, a)) == canonical_text(
        comparison_form(object_type, b)
    )


def values_equivalent(object_type: ObjectType, path: str, a: Any, b: Any) -> bool:
    """Whether two values found at ``path`` mean the same."""
    return canonical_text(canonical_value(object_type, path, a)) == canonical_text(
        canonical_value(object_type, path, b)
    )


def collection_delta(
    object_type: ObjectType, path: str, backup: Any, current: Any
) -> tuple[list[Any], list[Any]]:
    """For a collection: ``(added, removed)`` elements, as stored.

    ``added`` are elements present now that the backup does not have (in comparison
    form), ``removed`` those of the backup that are gone. A non-list counts as empty.
    """
    rules = _rules(object_type)
    folded = rules.under_case_insensitive(path)
    element_path = f"{path}[]"

    def forms(items: Any) -> list[tuple[str, Any]]:
        if not isinstance(items, list):
            return []
        return [(canonical_text(_canon(rules, i, element_path, folded=folded)), i) for i in items]

    before, after = forms(backup), forms(current)
    before_texts = {text for text, _ in before}
    after_texts = {text for text, _ in after}
    added = _unique(item for text, item in after if text not in before_texts)
    removed = _unique(item for text, item in before if text not in after_texts)
    return added, removed


def _unique(items: Any) -> list[Any]:
    seen: set[str] = set()
    out: list[Any] = []
    for item in items:
        text = canonical_text(item)
        if text not in seen:
            seen.add(text)
            out.append(item)
    return out


def _canon(rules: _Rules, value: Any, path: str, *, folded: bool) -> Any:
    folded = folded or path in rules.case_insensitive
    if isinstance(value, Mapping):
        return _canon_object(rules, value, path, folded=folded)
    if isinstance(value, list):
        if not value:
            return None
        items = [_canon(rules, item, f"{path}[]", folded=folded) for item in value]
        if path in rules.unordered:
            return _sorted_set(items, rules.unordered[path])
        return items
    if isinstance(value, str) and path in rules.word_sets:
        return " ".join(sorted(set(value.split()))) or None
    if folded and isinstance(value, str):
        return value.casefold()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _canon_object(
    rules: _Rules, value: Mapping[str, Any], path: str, *, folded: bool
) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for name, item in value.items():
        child = join_path(path, name)
        if rules.ignores(child, name):
            continue
        canonical = _canon(rules, item, child, folded=folded)
        if canonical is not None:
            out[name] = canonical
    return out or None


def _sorted_set(items: Sequence[Any], key: str | None) -> list[Any]:
    """Sorted elements; scalars de-duplicated (a set), objects kept as a multiset."""
    if all(isinstance(item, str) for item in items):
        return sorted(set(items))  # the common case (ids, URIs, keywords), kept cheap
    keyed: list[tuple[str, str, Any]] = []
    seen: set[str] = set()
    for item in items:
        text = canonical_text(item)
        if not isinstance(item, dict):
            if text in seen:
                continue
            seen.add(text)
        sort_key = canonical_text(item.get(key)) if key and isinstance(item, dict) else ""
        keyed.append((sort_key, text, item))
    keyed.sort(key=lambda entry: (entry[0], entry[1]))
    return [item for _, _, item in keyed]
