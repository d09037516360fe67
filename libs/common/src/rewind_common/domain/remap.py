"""Placeholders for values a plan cannot know until it runs, and the map that fills them.

A re-created object gets its id (and an application its ``appId``) from Graph, so a plan
names those values symbolically and the executor substitutes them as it goes:

- ``{{newId:<old id>}}``: the new id of the object that had ``<old id>`` in the backup;
- ``{{newAppId:<old appId>}}``: the new ``appId`` of a re-created application;
- ``{{graph}}``: the tenant's Graph base URL (``https://graph.microsoft.com/v1.0``), used in
  ``@odata.id`` / ``@odata.bind`` references, which Graph wants absolute;
- ``{{password}}``: a re-created user's initial password, generated when the request is
  sent, so no plan, dry run or stored record ever holds a real password.

Placeholders may stand alone or sit inside a longer string (``api://{{newAppId:…}}``).
Old object ids and old appIds share one :class:`IdMap`: both are GUIDs and never collide.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

NEW_ID = "newId"
NEW_APP_ID = "newAppId"
GRAPH = "{{graph}}"
PASSWORD = "{{password}}"  # noqa: S105 - a placeholder the executor fills

_TOKEN = re.compile(
    r"\{\{(?:(?P<kind>newId|newAppId):(?P<old>[^{}]+)|(?P<name>graph|password))\}\}"
)


class UnresolvedPlaceholder(LookupError):
    """A request still names a value the recovery has not produced (yet)."""


def new_id_token(old_id: str) -> str:
    """The placeholder for the new id of the object re-created from ``old_id``."""
    return f"{{{{{NEW_ID}:{old_id}}}}}"


def new_app_id_token(old_app_id: str) -> str:
    """The placeholder for the new appId of the application that had ``old_app_id``."""
    return f"{{{{{NEW_APP_ID}:{old_app_id}}}}}"


@dataclass(frozen=True)
class Placeholder:
    """One placeholder found in a value: ``kind`` is ``newId``, ``newAppId``, ``graph`` or
    ``password``; ``old`` the old id or appId for the first two."""

    kind: str
    old: str | None = None


def placeholders(value: Any) -> set[Placeholder]:
    """Every placeholder in a JSON value (strings at any depth)."""
    return set(_iter_placeholders(value))


def _iter_placeholders(value: Any) -> Iterator[Placeholder]:
    if isinstance(value, str):
        for match in _TOKEN.finditer(value):
            if match["name"]:
                yield Placeholder(match["name"])
            else:
                yield Placeholder(match["kind"], match["old"])
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _iter_placeholders(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _iter_placeholders(item)


def original_id(value: str) -> str:
    """The old id a whole-string ``newId``/``newAppId`` placeholder stands for, else
    ``value`` itself: what the backup called the object."""
    match = _TOKEN.fullmatch(value)
    if match is not None and match["old"] is not None:
        return match["old"]
    return value


def to_original_ids(value: Any) -> Any:
    """A copy of a JSON value with every whole-string id placeholder turned back into the
    old id, for checks that reason in the backup's ids (break-glass exclusions)."""
    if isinstance(value, str):
        return original_id(value)
    if isinstance(value, Mapping):
        return {name: to_original_ids(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_original_ids(item) for item in value]
    return value


@dataclass(frozen=True)
class IdMap:
    """Old → new ids (and appIds) of the objects a recovery has re-created so far.

    Immutable: :meth:`with_new` returns a new map, which the executor stores before the
    next write so a resumed recovery knows every id it produced.
    """

    entries: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, old: str) -> str | None:
        return self.entries.get(old)

    def __contains__(self, old: object) -> bool:
        return old in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def with_new(self, old: str, new: str) -> IdMap:
        """This map plus ``old`` → ``new``; a different value for a known ``old`` is a bug
        (an object re-created twice) and raises ``ValueError``."""
        known = self.entries.get(old)
        if known is not None and known != new:
            raise ValueError(f"{old} was already re-created as {known}, not {new}")
        return IdMap(MappingProxyType({**self.entries, old: new}))

    def to_dict(self) -> dict[str, str]:
        """The reported form, ``{"<old>": "<new>"}`` sorted by old id."""
        return {old: self.entries[old] for old in sorted(self.entries)}

    @classmethod
    def from_dict(cls, data: Mapping[str, str] | None) -> IdMap:
        return cls(MappingProxyType(dict(data or {})))

    def rewrite(self, value: str) -> str:
        """``value`` with every id placeholder this map knows replaced; others are kept."""

        def sub(match: re.Match[str]) -> str:
            old = match["old"]
            if old is None:
                return match[0]
            return self.entries.get(old, match[0])

        return _TOKEN.sub(sub, value)

    def fill(self, value: Any) -> Any:
        """A copy of a JSON value with every id placeholder this map knows replaced, at
        any depth; unknown ones (and ``{{graph}}``, ``{{password}}``) are kept. For
        comparing and recording values, never for sending them."""
        if isinstance(value, str):
            return self.rewrite(value) if "{{" in value else value
        if isinstance(value, Mapping):
            return {name: self.fill(item) for name, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.fill(item) for item in value]
        return value


def resolve(value: Any, id_map: IdMap, *, graph_base_url: str, password: str | None = None) -> Any:
    """A copy of a JSON value with every placeholder filled in.

    Raises :class:`UnresolvedPlaceholder` for an id the map does not hold (its object has
    not been re-created) and for ``{{password}}`` when no ``password`` is given.
    """
    base = graph_base_url.rstrip("/")

    def sub(match: re.Match[str]) -> str:
        name = match["name"]
        if name == "graph":
            return base
        if name == "password":
            if password is None:
                raise UnresolvedPlaceholder("a new password is needed to send this request")
            return password
        new = id_map.get(match["old"])
        if new is None:
            raise UnresolvedPlaceholder(f"{match['old']} has not been re-created (yet)")
        return new

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return _TOKEN.sub(sub, item) if "{{" in item else item
        if isinstance(item, Mapping):
            return {key: walk(child) for key, child in item.items()}
        if isinstance(item, list | tuple):
            return [walk(child) for child in item]
        return item

    return walk(value)


_SYMBOLS = "!#$%&*+-.:=?@^_~"


def new_password(length: int = 24) -> str:
    """A random password meeting Entra ID's complexity rule (all four character classes;
    Entra asks for three of four and 8 to 256 characters)."""
    if length < 8:
        raise ValueError("Entra ID passwords have at least 8 characters")
    classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits, _SYMBOLS)
    alphabet = "".join(classes)
    chars = [secrets.choice(c) for c in classes]
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    # Shuffle with the CSPRNG so the guaranteed classes are not always in front.
    for index in range(len(chars) - 1, 0, -1):
        swap = secrets.randbelow(index + 1)
        chars[index], chars[swap] = chars[swap], chars[index]
    return "".join(chars)
