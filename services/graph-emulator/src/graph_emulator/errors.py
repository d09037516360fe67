"""Graph's error shape and the codes and messages the directory and OData layers use.

Messages are Graph's own wording where it is documented or widely quoted (see the
docstrings); clients should code against ``code`` only, as Microsoft advises, but tests
of Rewind's reporting compare messages too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class GraphError(Exception):
    """An error answered with Graph's ``{"error": {...}}`` body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        inner: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.inner = dict(inner or {})


def error_body(
    code: str,
    message: str,
    *,
    request_id: str,
    client_request_id: str,
    date: str,
    inner: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    inner_error: dict[str, Any] = dict(inner or {})
    inner_error.update(
        {"date": date, "request-id": request_id, "client-request-id": client_request_id}
    )
    return {"error": {"code": code, "message": message, "innerError": inner_error}}


# Directory (Entra) errors ---------------------------------------------------------------


def not_found(object_id: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


def invalid_object_id(object_id: str) -> GraphError:
    return GraphError(400, "Request_BadRequest", f"Invalid object identifier '{object_id}'.")


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphError:
    return GraphError(400, code, message)


def read_only(prop: str, code: str = "Request_BadRequest") -> GraphError:
    return GraphError(400, code, f"Property '{prop}' is read-only and cannot be set.")


def required_missing(prop: str) -> GraphError:
    # Entra does not name the property; the name is appended after the documented text
    # so a failing test says which one.
    return GraphError(
        400,
        "Request_BadRequest",
        f"Property value is required but is empty or missing. (property: '{prop}')",
    )


def invalid_value(prop: str, resource: str) -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        f"Invalid value specified for property '{prop}' of resource '{resource}'.",
    )


SYNCED_MESSAGE = (
    "Unable to update the specified properties for on-premises mastered Directory Sync "
    "objects or objects currently undergoing migration."
)


def synced_object() -> GraphError:
    return GraphError(400, "Request_BadRequest", SYNCED_MESSAGE)


def duplicate_reference(prop: str) -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        "One or more added object references already exist for the following modified "
        f"properties: '{prop}'.",
    )


def method_not_allowed() -> GraphError:
    return GraphError(
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
    )


def unsupported_query(message: str) -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


def unsupported_filter_clause(prop: str, entity: str) -> GraphError:
    resource = entity[:1].upper() + entity[1:]
    return unsupported_query(
        f"Unsupported or invalid query filter clause specified for property '{prop}' "
        f"of resource '{resource}'."
    )


def unknown_query_property(prop: str) -> GraphError:
    return unsupported_query(
        f"Property '{prop}' does not exist as a declared property or extension property."
    )


def authorization_denied() -> GraphError:
    return GraphError(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


# OData (Graph front end) errors ---------------------------------------------------------


def segment_not_found(segment: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def invalid_json() -> GraphError:
    return GraphError(
        400,
        "BadRequest",
        "Unable to read JSON request payload. Please ensure Content-Type header is set and "
        "payload is of valid JSON format.",
    )


def odata_unknown_property(prop: str, type_name: str) -> GraphError:
    return GraphError(
        400,
        "BadRequest",
        f"The property '{prop}' does not exist on type '{type_name}'. Make sure to only use "
        "property names that are defined by the type or mark the type as open type.",
    )


def odata_bad_literal(value: Any, type_name: str) -> GraphError:
    if isinstance(value, bool):
        literal = "True" if value else "False"
    elif isinstance(value, dict | list):
        kind = "StartObject" if isinstance(value, dict) else "StartArray"
        return GraphError(
            400,
            "BadRequest",
            f"An unexpected '{kind}' node was found when reading from the JSON reader. "
            f"A 'PrimitiveValue' node was expected for a value of type '{type_name}'.",
        )
    else:
        literal = str(value)
    return GraphError(
        400,
        "BadRequest",
        f"Cannot convert the literal '{literal}' to the expected type '{type_name}'.",
    )


def odata_unexpected_node(found: str, expected: str) -> GraphError:
    return GraphError(
        400,
        "BadRequest",
        f"An unexpected '{found}' node was found when reading from the JSON reader. "
        f"A '{expected}' node was expected.",
    )


def odata_null_not_allowed(prop: str, type_name: str) -> GraphError:
    return GraphError(
        400,
        "BadRequest",
        f"A null value was found for the property named '{prop}', which has the expected "
        f"type '{type_name}[Nullable=False]'. The expected type '{type_name}[Nullable=False]' "
        "does not allow null values.",
    )


def odata_bad_type_annotation(type_name: str) -> GraphError:
    return GraphError(
        400,
        "BadRequest",
        f"A type named '{type_name}' could not be resolved by the model. When a model is "
        "available, each type name must resolve to a valid type.",
    )


def odata_unsupported_query_option(name: str) -> GraphError:
    return GraphError(400, "BadRequest", f"The query parameter '{name}' is not supported.")


def odata_unknown_select(prop: str, type_name: str) -> GraphError:
    return GraphError(
        400, "BadRequest", f"Could not find a property named '{prop}' on type '{type_name}'."
    )


def item_not_found(message: str = "The requested resource was not found.") -> GraphError:
    """Policy endpoints (not the directory) answer missing items with ``itemNotFound``."""
    return GraphError(404, "itemNotFound", message)


def sync_state_not_found() -> GraphError:
    return GraphError(
        400,
        "syncStateNotFound",
        "The sync state generation is not found. The delta token is expired and data must "
        "be synchronized again.",
    )


def count_not_supported() -> GraphError:
    return GraphError(400, "Request_BadRequest", "$count is not currently supported.")


#: Graph's challenge on a 401. Microsoft's article "Extract authentication parameters from
#: WWW-Authenticate headers" (learn.microsoft.com/entra/msal/dotnet/advanced/
#: extract-authentication-parameters) shows it for an unauthenticated ``GET /v1.0/me``;
#: a 401 for an expired token quoted with its headers (microsofthackathons/tdi#24, 2022)
#: carries the same. It has no ``claims`` directive: that would be a CAE claims challenge,
#: which msgraph-sdk answers by fetching a new token and sending the request once more.
AUTHENTICATE_CHALLENGE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    'authorize", client_id="00000003-0000-0000-c000-000000000000"'
)


def missing_token() -> GraphError:
    return GraphError(
        401,
        "InvalidAuthenticationToken",
        "Access token is empty.",
        headers={"WWW-Authenticate": AUTHENTICATE_CHALLENGE},
    )


def expired_token() -> GraphError:
    """Graph's answer to a token past its ``exp``.

    Microsoft documents the status: 401 when the token "is invalid or has expired"
    (learn.microsoft.com/graph/resolve-auth-errors; graph/errors: "Required
    authentication information is either missing or not valid for the resource"). The
    code and message are Graph's as quoted in public issues since 2023 (e.g.
    AzureAD/microsoft-identity-web#3106, s1t5/mail-archiver#267, a Graph error body dated
    2024-02-02 in firezone's tests); before that Graph said "Access token has expired or
    is not yet valid." with the same code."""
    return GraphError(
        401,
        "InvalidAuthenticationToken",
        "Lifetime validation failed, the token is expired.",
        headers={"WWW-Authenticate": AUTHENTICATE_CHALLENGE},
    )


def too_many_requests(retry_after: int | None, headers: Mapping[str, str]) -> GraphError:
    all_headers = dict(headers)
    if retry_after is not None:
        all_headers["Retry-After"] = str(retry_after)
    return GraphError(
        429,
        "TooManyRequests",
        "Please retry again later.",
        headers=all_headers,
        inner={"code": "429", "message": "Please retry after", "status": "429"},
    )
