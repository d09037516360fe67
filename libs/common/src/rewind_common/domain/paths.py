"""The registry's path syntax, applied to JSON bodies.

A path is a dotted list of property names: ``conditions.users.excludeGroups``. ``[]``
after a name steps into every element of the array it holds
(``authenticationMethodConfigurations[].includeTargets[].id``); ``[n]`` steps into one
element, which is how concrete paths (:func:`iter_paths`) name what they found.

OData annotations such as ``@odata.type`` contain a dot but are always leaves, so a
segment holding ``@`` takes the rest of the path as its name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import Enum
from functools import lru_cache
from typing import Any, Final, Literal


class _Each(Enum):
    EACH = "[]"


#: The ``[]`` step: every element of an array.
EACH: Final = _Each.EACH

Step = str | int | Literal[_Each.EACH]
Path = tuple[Step, ...]

_SEGMENT = re.compile(r"^(?P<name>[^\[\]]*)(?P<indexes>(?:\[\d*\])*)$")
_INDEX = re.compile(r"\[(\d*)\]")


@lru_cache(maxsize=4096)
def parse_path(path: str) -> Path:
    """Split a path into steps: property names, :data:`EACH` and element indexes.

    A path may start with ``[]`` (relative to an array). Raises ``ValueError`` for
    malformed paths (empty segments, unbalanced brackets).
    """
    if path == "":
        return ()
    steps: list[Step] = []
    rest = path
    while True:
        head, dot, tail = rest.partition(".")
        if "@" in head:
            steps.append(rest)
            break
        match = _SEGMENT.match(head)
        # Only the first segment may be a bare ``[]`` (a path relative to an array).
        if match is None or (not match["name"] and (steps or not match["indexes"])):
            raise ValueError(f"malformed path {path!r}")
        if match["name"]:
            steps.append(match["name"])
        steps.extend(int(index) if index else EACH for index in _INDEX.findall(match["indexes"]))
        if not dot:
            break
        if not tail:
            raise ValueError(f"malformed path {path!r}")
        rest = tail
    return tuple(steps)


def format_path(steps: Sequence[Step]) -> str:
    """The text of a parsed path (inverse of :func:`parse_path`)."""
    out = ""
    for step in steps:
        if step is EACH:
            out += "[]"
        elif isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else step
    return out


def join_path(parent: str, name: str) -> str:
    """``parent.name``, or ``name`` at the top level."""
    return f"{parent}.{name}" if parent else name


def is_within(path: str, ancestor: str) -> bool:
    """Whether ``path`` is ``ancestor`` or lies below it (at a step boundary)."""
    if path == ancestor:
        return True
    return path.startswith(ancestor) and path[len(ancestor)] in ".["


def relative_path(path: str, ancestor: str) -> str:
    """The part of ``path`` below ``ancestor`` (``""`` when equal), relative paths may
    start with ``[]``."""
    if not is_within(path, ancestor):
        raise ValueError(f"{path!r} is not within {ancestor!r}")
    return path[len(ancestor) :].removeprefix(".")


def iter_paths(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every concrete path matching ``path`` with the value found there.

    ``[]`` steps become ``[n]``; keys that are absent (or a ``null`` on the way) yield
    nothing, so only values that are present are listed.
    """
    yield from _walk(value, parse_path(path), ())


def _walk(value: Any, steps: Path, done: Path) -> Iterator[tuple[str, Any]]:
    if not steps:
        yield format_path(done), value
        return
    step, rest = steps[0], steps[1:]
    if step is EACH:
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from _walk(item, rest, (*done, index))
    elif isinstance(step, int):
        if isinstance(value, list) and 0 <= step < len(value):
            yield from _walk(value[step], rest, (*done, step))
    elif isinstance(value, Mapping) and step in value:
        yield from _walk(value[step], rest, (*done, step))


def get_values(value: Any, path: str) -> list[Any]:
    """Every value present at ``path`` (one per array element for ``[]`` steps)."""
    return [found for _, found in iter_paths(value, path)]


def get_value(value: Any, path: str, default: Any = None) -> Any:
    """The value at a path without ``[]`` steps, or ``default`` when it is absent."""
    steps = parse_path(path)
    if EACH in steps:
        raise ValueError(f"{path!r} names many values; use get_values")
    found = list(_walk(value, steps, ()))
    return found[0][1] if found else default


def set_value(body: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a path without ``[]`` steps, in place.

    Missing or ``null`` objects on the way are created; stepping through anything else
    that is not an object (or an array, for ``[n]``) raises ``ValueError``.
    """
    steps = parse_path(path)
    if not steps or EACH in steps:
        raise ValueError(f"cannot set a value at {path!r}")
    container: Any = body
    for index, step in enumerate(steps[:-1]):
        following = steps[index + 1]
        child = _child(container, step, path)
        if child is None:
            child = [] if isinstance(following, int) else {}
            _assign(container, step, child, path)
        container = child
    _assign(container, steps[-1], value, path)


def _child(container: Any, step: Step, path: str) -> Any:
    if isinstance(step, int):
        if isinstance(container, list) and 0 <= step < len(container):
            return container[step]
        raise ValueError(f"no element {step} on the way to {path!r}")
    if isinstance(container, dict):
        return container.get(step)
    raise ValueError(f"{path!r} steps through a value that is not an object")


def _assign(container: Any, step: Step, value: Any, path: str) -> None:
    if isinstance(step, int):
        if isinstance(container, list) and 0 <= step < len(container):
            container[step] = value
            return
        raise ValueError(f"no element {step} on the way to {path!r}")
    if not isinstance(container, dict) or step is EACH:
        raise ValueError(f"{path!r} steps through a value that is not an object")
    container[step] = value


def map_values(value: Any, path: str, function: Callable[[Any], Any]) -> Any:
    """A copy of ``value`` where every value present at ``path`` is replaced by
    ``function(old)``. Containers on the way are copied; everything else is shared."""
    return _map(value, parse_path(path), function)


def _map(value: Any, steps: Path, function: Callable[[Any], Any]) -> Any:
    if not steps:
        return function(value)
    step, rest = steps[0], steps[1:]
    if step is EACH:
        if isinstance(value, list):
            return [_map(item, rest, function) for item in value]
        return value
    if isinstance(step, int):
        if isinstance(value, list) and 0 <= step < len(value):
            copied = list(value)
            copied[step] = _map(value[step], rest, function)
            return copied
        return value
    if isinstance(value, Mapping) and step in value:
        copied_object = dict(value)
        copied_object[step] = _map(value[step], rest, function)
        return copied_object
    return value
