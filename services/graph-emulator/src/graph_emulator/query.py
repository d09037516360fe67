"""OData system query options as Graph's directory endpoints accept them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from graph_emulator import errors
from graph_emulator.filters import ADVANCED_OPERATORS, Filter, parse_filter
from graph_emulator.http import Request

KNOWN_OPTIONS = {
    "$select", "$top", "$filter", "$count", "$expand", "$skiptoken", "$deltatoken",
    "$orderby", "$search", "$skip", "$format",
}  # fmt: skip


@dataclass
class Expand:
    name: str
    select: list[str] | None = None


@dataclass
class Query:
    select: list[str] | None = None
    top: int | None = None
    filter: Filter | None = None
    count: bool = False
    expand: list[Expand] = field(default_factory=list)
    skiptoken: str | None = None
    deltatoken: str | None = None
    orderby: str | None = None
    search: str | None = None
    skip: str | None = None
    eventual: bool = False

    @property
    def advanced(self) -> bool:
        """Advanced directory queries need both the header and ``$count=true``."""
        return self.eventual and self.count


def split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses: ``owners($select=id,displayName),manager``."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if current:
        parts.append("".join(current).strip())
    return [p for p in parts if p]


def parse_select(text: str) -> list[str]:
    fields = [part.strip() for part in text.split(",")]
    if not all(fields):
        raise errors.GraphError(400, "BadRequest", f"Invalid $select value '{text}'.")
    return list(dict.fromkeys(fields))


def parse_expand(text: str) -> list[Expand]:
    out = []
    for part in split_top_level(text):
        match = re.fullmatch(r"([\w.]+)\s*(?:\((.*)\))?", part, re.DOTALL)
        if not match:
            raise errors.GraphError(400, "BadRequest", f"Invalid $expand value '{text}'.")
        name, inner = match.group(1), match.group(2)
        select = None
        if inner:
            for option in inner.split(";"):
                key, _, value = option.partition("=")
                if key.strip().lower() == "$select":
                    select = parse_select(value)
                elif key.strip():
                    raise errors.unsupported_query(
                        f"Query option '{key.strip()}' is not supported inside $expand."
                    )
        out.append(Expand(name, select))
    return out


def parse_query(request: Request) -> Query:
    query = Query()
    seen: set[str] = set()
    for raw_key, value in request.query:
        key = raw_key.lower()
        if not key.startswith("$"):
            continue  # Graph ignores custom query parameters.
        if key not in KNOWN_OPTIONS:
            raise errors.odata_unsupported_query_option(raw_key)
        if key in seen:
            raise errors.GraphError(
                400, "BadRequest", f"Query option '{raw_key}' was specified more than once."
            )
        seen.add(key)
        if key == "$select":
            query.select = parse_select(value)
        elif key == "$top":
            if not re.fullmatch(r"\d+", value.strip()):
                raise errors.GraphError(
                    400, "BadRequest", f"Invalid value '{value}' for $top query option found."
                )
            query.top = int(value)
        elif key == "$filter":
            query.filter = parse_filter(value)
        elif key == "$count":
            if value.lower() not in ("true", "false"):
                raise errors.GraphError(
                    400, "BadRequest", f"Invalid value '{value}' for $count query option found."
                )
            query.count = value.lower() == "true"
        elif key == "$expand":
            query.expand = parse_expand(value)
        elif key == "$skiptoken":
            query.skiptoken = value
        elif key == "$deltatoken":
            query.deltatoken = value
        elif key == "$orderby":
            query.orderby = value
        elif key == "$search":
            query.search = value
        elif key == "$skip":
            query.skip = value
    query.eventual = (request.header("consistencylevel") or "").lower() == "eventual"
    return query


def check_page_size(query: Query, max_top: int) -> None:
    if query.top is not None and not 1 <= query.top <= max_top:
        raise errors.unsupported_query(
            f"Invalid page size specified: '{query.top}'. Must be between 1 and {max_top} "
            "inclusive."
        )


def check_list_options(query: Query, *, directory: bool) -> None:
    """What a directory list refuses regardless of the resource."""
    if query.skip is not None:
        raise errors.unsupported_query("'$skip' is not supported by the service.")
    if query.search is not None and not query.eventual:
        raise errors.unsupported_query(
            "Request with $search query parameter only works through MSGraph with a special "
            "request header: 'ConsistencyLevel: eventual'"
        )
    if query.search is not None:
        raise errors.unsupported_query("$search is not supported by this emulator.")
    if query.orderby is not None:
        raise errors.unsupported_query("Sorting not supported for current query.")
    if directory and query.count and not query.eventual:
        raise errors.count_not_supported()
    advanced = query.filter is not None and query.filter.operators & ADVANCED_OPERATORS
    if advanced and not query.advanced:
        raise errors.unsupported_query("Unsupported Query.")
