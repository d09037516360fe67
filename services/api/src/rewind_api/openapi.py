"""The OpenAPI document, describing errors as the API really answers them: invalid input
is a 400 (not FastAPI's default 422) and every error has the ``Error`` shape.

The document is served at ``/openapi.json`` to reader tokens, or to anyone (with
``/docs``) when the settings make the docs public."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from rewind_api.auth import Reader

_ERROR_REF = {"$ref": "#/components/schemas/Error"}

_STANDARD_ERRORS = {
    "400": "Invalid input; the message names each invalid parameter",
    "401": "No token, or an unknown or revoked one",
    "403": "The token's role is too weak for this route",
    "404": "The tenant or an id in the path does not exist",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] | None = None


class Error(BaseModel):
    error: ErrorDetail


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def _document_errors(path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    had_validation = responses.pop("422", None) is not None
    wanted = []
    if had_validation:
        wanted.append("400")
    if operation.get("security"):
        wanted += ["401", "403"]
    if "{" in path:
        wanted.append("404")
    for code in wanted:
        responses.setdefault(code, _error_response(_STANDARD_ERRORS[code]))
    for code, response in responses.items():
        if code[0] in "45" and "content" not in response:
            response["content"] = {"application/json": {"schema": _ERROR_REF}}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        error_schema = Error.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(error_schema.pop("$defs", {}))
        schemas["Error"] = error_schema
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                _document_errors(path, operation)
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


#: ``/openapi.json`` for reader tokens, when the docs are not public.
document_router = APIRouter()


@document_router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request, _: Reader) -> dict[str, Any]:
    app: FastAPI = request.app
    return app.openapi()
