"""Graph URL paths to handlers, with Graph's answers for paths and methods it lacks.

Segments are normalized the way Graph reads them: ``delta()`` and
``microsoft.graph.delta`` are the ``delta`` function, ``graph.user`` is the
``microsoft.graph.user`` cast (the SDK's alias form) and ``applications(appId='…')`` is
an alternate key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from graph_emulator import errors
from graph_emulator.context import Ctx
from graph_emulator.http import Response, split_path

Handler = Callable[[Ctx], Response]

_FUNCTIONS = {"delta", "restore", "instantiate", "getByIds"}
_KEY_SEGMENT = re.compile(r"^([A-Za-z]+)\((.+)\)$")


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    param: tuple[str, _Node] | None = None
    methods: dict[str, Handler] = field(default_factory=dict)
    template: str = ""


@dataclass
class Match:
    handler: Handler
    params: dict[str, str]
    template: str


def normalize(segment: str) -> list[str]:
    if segment.endswith("()"):
        segment = segment[:-2]
    lowered = segment.lower()
    for prefix in ("microsoft.graph.", "graph."):
        if lowered.startswith(prefix):
            rest = segment[len(prefix) :]
            return [rest if rest in _FUNCTIONS else "microsoft.graph." + rest]
    key = _KEY_SEGMENT.match(segment)
    if key and "=" in key.group(2):
        return [key.group(1), f"({key.group(2)})"]
    return [segment]


class Router:
    def __init__(self) -> None:
        self._root = _Node()

    def add(self, method: str, template: str, handler: Handler) -> None:
        node = self._root
        for part in template.strip("/").split("/"):
            if part.startswith("{") and part.endswith("}"):
                name = part[1:-1]
                if node.param is None:
                    node.param = (name, _Node())
                elif node.param[0] != name:
                    raise ValueError(f"conflicting parameter names at {template}")
                node = node.param[1]
            else:
                node = node.literals.setdefault(part, _Node())
        node.methods[method] = handler
        node.template = template

    def match(self, method: str, path: str) -> Match:
        segments = [part for raw in split_path(path) for part in normalize(raw)]
        node = self._root
        params: dict[str, str] = {}
        for segment in segments:
            child = node.literals.get(segment)
            if child is None:
                child = _case_insensitive(node, segment)
            if child is None and node.param is not None and not segment.startswith("$"):
                name, child = node.param
                params[name] = segment
            if child is None:
                raise errors.segment_not_found(segment)
            node = child
        if not node.methods:
            last = segments[-1] if segments else ""
            raise errors.segment_not_found(last)
        handler = node.methods.get(method)
        if handler is None:
            raise errors.method_not_allowed()
        return Match(handler, params, node.template)


def _case_insensitive(node: _Node, segment: str) -> _Node | None:
    # Graph resolves entity set and property segments without regard to case.
    lowered = segment.lower()
    for name, child in node.literals.items():
        if name.lower() == lowered:
            return child
    return None
