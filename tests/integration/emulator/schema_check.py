"""Checks a response body against the v1.0 metadata: every property name declared on the
type (base types included, or on the derived type ``@odata.type`` names), every value
of the declared type (collections, complex and entity values recursively, enum members,
GUID / date formats, base64 binaries)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from graph_emulator.csdl import Property, Schema, TypeRef

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DURATION = re.compile(r"^-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
#: Instance annotations a body may carry.
ANNOTATIONS = {"@odata.type", "@odata.context", "@odata.id", "@odata.etag", "@removed"}


def check_body(schema: Schema, type_name: str, body: Any, where: str = "") -> list[str]:
    if not isinstance(body, dict):
        return [f"{where}: expected an object, found {type(body).__name__}"]
    problems: list[str] = []
    declared = schema.qualified(type_name)
    actual = declared
    if "@odata.type" in body:
        actual = schema.qualified(str(body["@odata.type"]))
        if actual not in schema.types or not schema.is_subtype(actual, declared):
            return [f"{where}: @odata.type {body['@odata.type']} is not a {declared}"]
    props = schema.properties(actual)
    navs = schema.properties(actual, navigation=True)
    for key, value in body.items():
        path = f"{where}.{key}" if where else key
        if key in ANNOTATIONS:
            continue
        if "@" in key:
            name, _, annotation = key.partition("@")
            if annotation == "delta" and name in navs:
                for item in value:
                    problems += check_body(schema, "directoryObject", item, path)
            elif annotation not in ("odata.context", "odata.nextLink", "odata.count"):
                problems.append(f"{path}: unexpected annotation")
            continue
        prop: Property | None = props.get(key) or navs.get(key)
        if prop is None:
            problems.append(f"{path}: not a property of {actual}")
            continue
        problems += check_value(schema, prop.type, prop.nullable, value, path)
    return problems


def check_value(schema: Schema, ref: TypeRef, nullable: bool, value: Any, where: str) -> list[str]:
    if value is None:
        if ref.collection:
            return [f"{where}: a collection is never null (empty is [])"]
        return [] if nullable else [f"{where}: null for a non-nullable property"]
    if ref.collection:
        if not isinstance(value, list):
            return [f"{where}: expected a collection"]
        problems: list[str] = []
        for index, item in enumerate(value):
            element = TypeRef(ref.name, False)
            problems += check_value(schema, element, nullable, item, f"{where}[{index}]")
        return problems
    if ref.is_primitive:
        return check_primitive(ref.name, value, where)
    enum = schema.enums.get(ref.name)
    if enum is not None:
        members = [m.strip() for m in str(value).split(",")] if enum.flags else [value]
        if not isinstance(value, str) or any(m not in enum.members for m in members):
            return [f"{where}: {value!r} is not a member of {ref.name}"]
        return []
    if ref.name in schema.types:
        return check_body(schema, ref.name, value, where)
    return [f"{where}: unknown type {ref.name}"]


def check_primitive(edm: str, value: Any, where: str) -> list[str]:
    ok: bool
    if edm == "Edm.String":
        ok = isinstance(value, str)
    elif edm == "Edm.Boolean":
        ok = isinstance(value, bool)
    elif edm in ("Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.SByte"):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif edm in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif edm == "Edm.Guid":
        ok = isinstance(value, str) and bool(GUID.match(value))
    elif edm == "Edm.DateTimeOffset":
        ok = isinstance(value, str) and bool(DATETIME.match(value))
    elif edm == "Edm.Date":
        ok = isinstance(value, str) and bool(DATE.match(value))
    elif edm == "Edm.Duration":
        ok = isinstance(value, str) and bool(DURATION.match(value))
    elif edm == "Edm.Binary":
        try:
            base64.b64decode(str(value) + "=" * (-len(str(value)) % 4), validate=True)
            ok = isinstance(value, str)
        except (binascii.Error, ValueError):
            ok = False
    else:
        ok = True
    return [] if ok else [f"{where}: {value!r} is not a valid {edm}"]
