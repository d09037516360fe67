"""``$filter``: a parser for the subset directory queries use, and its evaluation.

Supported: ``eq``/``ne``/``ge``/``le``/``gt``/``lt``, ``in (...)``, ``startswith``,
``endswith``, ``not``, ``and``/``or``, parentheses, ``any`` lambdas
(``groupTypes/any(c:c eq 'Unified')``) and ``isof('microsoft.graph.user')`` (parsed for
``/directoryObjects/delta``; lists refuse it). String comparisons ignore case, as
Entra's do.
``ne``, ``not`` and ``endswith`` are advanced queries: Graph requires
``ConsistencyLevel: eventual`` and ``$count=true`` for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graph_emulator import errors

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
      | (?P<punct>[(),:/])
      | (?P<number>-?\d+(?:\.\d+)?(?![\w-]))
      | (?P<word>[A-Za-z_$@][\w.$@-]*)
    )""",
    re.VERBOSE,
)
_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
ADVANCED_OPERATORS = {"ne", "not", "endswith"}


class FilterSyntaxError(Exception):
    pass


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Path:
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Compare:
    op: str
    path: Path
    value: Any


@dataclass(frozen=True)
class In:
    path: Path
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Func:
    name: str
    path: Path
    value: Any


@dataclass(frozen=True)
class IsOf:
    """``isof('microsoft.graph.user')``: ``type_name`` as written, qualified."""

    type_name: str


@dataclass(frozen=True)
class Not:
    inner: Node


@dataclass(frozen=True)
class BoolOp:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Any_:
    path: Path
    variable: str
    body: Node


Node = Compare | In | Func | IsOf | Not | BoolOp | Any_


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN_RE.match(text, position)
        if not match or match.end() == position:
            raise FilterSyntaxError(f"Syntax error at position {position} in '{text}'.")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0
        self.operators: set[str] = set()
        self.properties: set[str] = set()

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterSyntaxError(f"Syntax error: unexpected end of '{self.text}'.")
        self.index += 1
        return token

    def expect(self, value: str) -> None:
        _kind, text = self.take()
        if text.lower() != value:
            raise FilterSyntaxError(f"Syntax error: expected '{value}' but found '{text}'.")

    def word_is(self, value: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].lower() == value

    def parse(self) -> Node:
        node = self.or_expr()
        extra = self.peek()
        if extra is not None:
            raise FilterSyntaxError(
                f"Syntax error at position {self.index} in '{self.text}': unexpected '{extra[1]}'."
            )
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.word_is("or"):
            self.take()
            node = BoolOp("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while self.word_is("and"):
            self.take()
            node = BoolOp("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.word_is("not"):
            self.take()
            self.operators.add("not")
            return Not(self.unary())
        token = self.peek()
        if token is not None and token[1] == "(":
            self.take()
            node = self.or_expr()
            self.expect(")")
            return node
        return self.predicate()

    def predicate(self) -> Node:
        kind, text = self.take()
        if kind != "word":
            raise FilterSyntaxError(f"Syntax error: unexpected '{text}' in '{self.text}'.")
        lowered = text.lower()
        after = self.peek()
        if lowered in ("startswith", "endswith") and after is not None and after[1] == "(":
            self.take()
            path = self.path(self.take())
            self.expect(",")
            value = self.literal()
            self.expect(")")
            self.operators.add(lowered)
            return Func(lowered, path, value)
        if lowered == "isof" and after is not None and after[1] == "(":
            self.take()
            type_name = self.literal()
            self.expect(")")
            if not isinstance(type_name, str):
                raise FilterSyntaxError(f"Syntax error: isof needs a type name in '{self.text}'.")
            self.operators.add("isof")
            return IsOf(type_name)
        path = self.path((kind, text))
        if self.peek() is not None and self.peek() == ("punct", "/"):
            raise FilterSyntaxError(f"Syntax error in '{self.text}'.")
        if path.parts[-1].lower() == "any" and len(path.parts) > 1:
            return self.lambda_any(Path(path.parts[:-1]))
        _op_kind, op = self.take()
        op = op.lower()
        if op == "in":
            self.expect("(")
            values = [self.literal()]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.literal())
            self.expect(")")
            self.operators.add("in")
            return In(path, tuple(values))
        if op not in _COMPARISONS:
            raise FilterSyntaxError(f"Syntax error: unknown operator '{op}' in '{self.text}'.")
        self.operators.add(op)
        return Compare(op, path, self.literal())

    def lambda_any(self, path: Path) -> Node:
        self.expect("(")
        _, variable = self.take()
        self.expect(":")
        body = self.or_expr()
        self.expect(")")
        return Any_(path, variable, body)

    def path(self, first: tuple[str, str]) -> Path:
        kind, text = first
        if kind != "word":
            raise FilterSyntaxError(f"Syntax error: expected a property, found '{text}'.")
        parts = [text]
        while self.peek() == ("punct", "/"):
            self.take()
            kind, text = self.take()
            if kind != "word":
                raise FilterSyntaxError(f"Syntax error: expected a property, found '{text}'.")
            parts.append(text)
        self.properties.add(parts[0])
        return Path(tuple(parts))

    def literal(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "guid":
            return text
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "word":
            lowered = text.lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            if lowered == "null":
                return None
        raise FilterSyntaxError(f"Syntax error: '{text}' is not a literal in '{self.text}'.")


@dataclass
class Filter:
    node: Node
    operators: set[str]
    properties: set[str]


def parse_filter(text: str) -> Filter:
    try:
        parser = _Parser(text)  # tokenizing finds the first errors
        node = parser.parse()
    except FilterSyntaxError as exc:
        raise errors.GraphError(400, "BadRequest", f"Invalid filter clause: {exc}") from None
    # The lambda variable is not a property of the object.
    properties = {p for p in parser.properties if not _is_lambda_variable(node, p)}
    return Filter(node, parser.operators, properties)


def _is_lambda_variable(node: Node, name: str) -> bool:
    if isinstance(node, Any_):
        return node.variable == name or _is_lambda_variable(node.body, name)
    if isinstance(node, BoolOp):
        return _is_lambda_variable(node.left, name) or _is_lambda_variable(node.right, name)
    if isinstance(node, Not):
        return _is_lambda_variable(node.inner, name)
    return False


def _resolve(path: Path, body: dict[str, Any], scope: dict[str, Any]) -> Any:
    first, *rest = path.parts
    value: Any = scope[first] if first in scope else body.get(first)
    for part in rest:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _norm(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _compare(op: str, left: Any, right: Any) -> bool:
    left, right = _norm(left), _norm(right)
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        if op == "gt":
            return bool(left > right)
        if op == "ge":
            return bool(left >= right)
        if op == "lt":
            return bool(left < right)
        return bool(left <= right)
    except TypeError:
        return False


def evaluate(node: Node, body: dict[str, Any], scope: dict[str, Any] | None = None) -> bool:
    scope = scope or {}
    if isinstance(node, BoolOp):
        if node.op == "and":
            return evaluate(node.left, body, scope) and evaluate(node.right, body, scope)
        return evaluate(node.left, body, scope) or evaluate(node.right, body, scope)
    if isinstance(node, Not):
        return not evaluate(node.inner, body, scope)
    if isinstance(node, Compare):
        return _compare(node.op, _resolve(node.path, body, scope), node.value)
    if isinstance(node, In):
        value = _norm(_resolve(node.path, body, scope))
        return any(value == _norm(v) for v in node.values)
    if isinstance(node, IsOf):
        declared = body.get("@odata.type")
        wanted = node.type_name.lstrip("#").casefold()
        return isinstance(declared, str) and declared.lstrip("#").casefold() == wanted
    if isinstance(node, Func):
        value = _resolve(node.path, body, scope)
        if not isinstance(value, str) or not isinstance(node.value, str):
            return False
        if node.name == "startswith":
            return value.casefold().startswith(node.value.casefold())
        return value.casefold().endswith(node.value.casefold())
    items = _resolve(node.path, body, scope) or []
    return any(evaluate(node.body, body, {**scope, node.variable: item}) for item in items)


def property_tests(node: Node) -> Iterator[tuple[str, str]]:
    """Each property a filter tests and how (``eq``, ``in``, ``startswith``, ``any``,
    ...); what a lambda tests of a collection's items is left out."""
    if isinstance(node, BoolOp):
        yield from property_tests(node.left)
        yield from property_tests(node.right)
    elif isinstance(node, Not):
        yield from property_tests(node.inner)
    elif isinstance(node, Compare):
        yield node.path.parts[0], node.op
    elif isinstance(node, In):
        yield node.path.parts[0], "in"
    elif isinstance(node, Func):
        yield node.path.parts[0], node.name
    elif isinstance(node, Any_):
        yield node.path.parts[0], "any"


def id_values(node: Node) -> list[str] | None:
    """The ids of a filter that is only ``id eq`` / ``id in`` / ``or`` of them (the form
    delta accepts), else ``None``."""
    if isinstance(node, Compare) and node.op == "eq" and node.path.parts == ("id",):
        return [str(node.value)]
    if isinstance(node, In) and node.path.parts == ("id",):
        return [str(v) for v in node.values]
    if isinstance(node, BoolOp) and node.op == "or":
        left, right = id_values(node.left), id_values(node.right)
        if left is not None and right is not None:
            return left + right
    return None
