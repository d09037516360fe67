"""Request bodies checked against the v1.0 metadata, and response bodies shaped by it.

Graph's front end reads JSON with Microsoft.OData.Core: property names are checked
against the type (nested complex types included), primitive values are converted the
way .NET's ``Convert.ChangeType`` does from strings (``"true"`` is a Boolean, ``"60"``
an Int32), and anything else fails with the OData library's messages. Directory entity
types are open in the metadata, so unknown top-level names pass the OData layer and are
rejected by Entra instead ("Invalid property").
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from graph_emulator import errors
from graph_emulator.csdl import Property, Schema, TypeRef, load_schema

_INT_RANGES = {
    "Edm.Byte": (0, 255),
    "Edm.SByte": (-128, 127),
    "Edm.Int16": (-(2**15), 2**15 - 1),
    "Edm.Int32": (-(2**31), 2**31 - 1),
    "Edm.Int64": (-(2**63), 2**63 - 1),
}
_FLOATS = {"Edm.Double", "Edm.Single", "Edm.Decimal"}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$")
_DURATION_RE = re.compile(r"^-?P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$"
)
_EMPTY: tuple[()] = ()


def parse_datetime(value: str) -> datetime | None:
    if not _DATETIME_RE.match(value):
        return None
    text = value.replace("Z", "+00:00")
    match = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", text)
    if match:  # Python reads at most 6 fractional digits; Graph writes 7.
        text = f"{match.group(1)}.{match.group(2)[:6].ljust(6, '0')}{match.group(3)}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Field:
    """A property as materializing needs it: its name, whether it is a collection, and
    the qualified complex type of its value (``None`` for primitives and enums)."""

    name: str
    collection: bool
    complex: str | None
    #: What an unset property reads as: ``[]`` for collections, ``false`` / ``0`` for
    #: non-nullable Booleans and integers (they always have a value), else ``null``.
    default: Any = None


@dataclass
class WriteBody:
    """A request body after checking: converted values plus the ``@odata.bind`` lists."""

    values: dict[str, Any] = field(default_factory=dict)
    binds: dict[str, list[str]] = field(default_factory=dict)
    odata_type: str | None = None


class Shapes:
    """Cached views of the metadata for the types the emulator serves."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._props: dict[str, dict[str, Property]] = {}
        self._navs: dict[str, dict[str, Property]] = {}
        self._fields: dict[str, list[Field]] = {}
        self._complex: dict[str, dict[str, Field]] = {}
        self._qualified: dict[str, str] = {}

    def qualified(self, name: str) -> str:
        found = self._qualified.get(name)
        if found is None:
            found = self._qualified[name] = self.schema.qualified(name)
        return found

    def fields(self, type_name: str) -> list[Field]:
        qualified = self.qualified(type_name)
        found = self._fields.get(qualified)
        if found is None:
            found = []
            for name, prop in self.props(qualified).items():
                target = self.schema.types.get(prop.type.name)
                complex_name = (
                    prop.type.name if target is not None and target.kind == "complex" else None
                )
                found.append(Field(name, prop.type.collection, complex_name, default_of(prop)))
            self._fields[qualified] = found
        return found

    def complex_fields(self, type_name: str) -> dict[str, Field]:
        """The properties of ``type_name`` whose values are complex (what to complete)."""
        qualified = self.qualified(type_name)
        found = self._complex.get(qualified)
        if found is None:
            found = {f.name: f for f in self.fields(qualified) if f.complex is not None}
            self._complex[qualified] = found
        return found

    def props(self, type_name: str) -> dict[str, Property]:
        """Structural properties (inherited included), streams left out: Graph never puts a
        stream in a JSON body."""
        qualified = self.qualified(type_name)
        found = self._props.get(qualified)
        if found is None:
            found = {
                name: prop
                for name, prop in self.schema.properties(qualified).items()
                if prop.type.name != "Edm.Stream"
            }
            self._props[qualified] = found
        return found

    def navs(self, type_name: str) -> dict[str, Property]:
        qualified = self.schema.qualified(type_name)
        found = self._navs.get(qualified)
        if found is None:
            found = self.schema.properties(qualified, navigation=True)
            self._navs[qualified] = found
        return found

    def resolve_type(self, declared: str, annotation: Any) -> str:
        """The qualified type an ``@odata.type`` names, if it is the declared type or
        derives from it."""
        if not isinstance(annotation, str):
            raise errors.odata_bad_literal(annotation, "Edm.String")
        qualified = self.schema.qualified(annotation)
        if qualified not in self.schema.types or not self.schema.is_subtype(qualified, declared):
            raise errors.odata_bad_type_annotation(annotation.lstrip("#"))
        return qualified

    # -- shaping -----------------------------------------------------------------------

    def default_value(self, prop: Property) -> Any:
        return _EMPTY if prop.type.collection else None

    def materialize(self, type_name: str, value: Mapping[str, Any]) -> dict[str, Any]:
        """A complex value with every property of its type present, as Graph returns it
        (unset collections ``[]``, unset values ``null``), nested values included."""
        out: dict[str, Any] = {}
        annotation = value.get("@odata.type")
        if annotation is not None:
            out["@odata.type"] = annotation
            type_name = str(annotation)
        for field_ in self.fields(type_name):
            name = field_.name
            if name in value:
                item = value[name]
                if field_.complex is not None and item is not None:
                    item = self._complete(field_, item)
                out[name] = item
            else:
                out[name] = [] if field_.collection else field_.default
        return out

    def materialize_value_field(self, field_: Field, value: Any) -> Any:
        return self._complete(field_, value)

    def _complete(self, field_: Field, value: Any) -> Any:
        assert field_.complex is not None
        if field_.collection:
            if not isinstance(value, list | tuple):
                return value
            return [
                self.materialize(field_.complex, v) if isinstance(v, dict) else v for v in value
            ]
        return self.materialize(field_.complex, value) if isinstance(value, dict) else value

    def materialize_value(self, type_ref: TypeRef, value: Any) -> Any:
        if value is None or type_ref.name.startswith("Edm."):
            return value
        target = self.schema.types.get(type_ref.name)
        if target is None or target.kind != "complex":
            return value
        return self._complete(Field("", type_ref.collection, type_ref.name), value)

    # -- checking ----------------------------------------------------------------------

    def check_entity(
        self,
        type_name: str,
        body: Any,
        *,
        directory: bool,
        navigations: Iterable[str] = (),
    ) -> WriteBody:
        """Check a POST/PATCH body against ``type_name`` (or the derived type its
        ``@odata.type`` names). ``navigations`` lists contained navigation properties the
        body may carry inline (auth method targets)."""
        if not isinstance(body, dict):
            found = "StartArray" if isinstance(body, list) else "PrimitiveValue"
            raise errors.odata_unexpected_node(found, "StartObject")
        declared = self.schema.qualified(type_name)
        result = WriteBody()
        if "@odata.type" in body:
            declared = self.resolve_type(declared, body["@odata.type"])
            result.odata_type = "#" + declared
        props = self.props(declared)
        navs = self.navs(declared)
        allowed_navs = set(navigations)
        for key, value in body.items():
            if key.startswith("@"):
                continue  # instance annotations (@odata.type handled above, others ignored)
            if "@" in key:
                prop_name, _, annotation = key.partition("@")
                if annotation == "odata.bind":
                    result.binds[prop_name] = self._bind_list(prop_name, value, navs)
                continue
            prop = props.get(key)
            if prop is None:
                nav = navs.get(key)
                if nav is not None and key in allowed_navs:
                    result.values[key] = self.convert(nav.type, value, key, nav.nullable)
                    continue
                if directory and self.schema.types[declared].open_type:
                    raise errors.bad_request(f"Invalid property '{key}'.")
                raise errors.odata_unknown_property(key, declared)
            result.values[key] = self.convert(prop.type, value, key, prop.nullable)
        return result

    def _bind_list(self, prop_name: str, value: Any, navs: dict[str, Property]) -> list[str]:
        nav = navs.get(prop_name)
        if nav is None:
            raise errors.bad_request(f"Invalid property '{prop_name}'.")
        values = value if isinstance(value, list) else [value]
        if not nav.type.collection and isinstance(value, list):
            raise errors.odata_unexpected_node("StartArray", "PrimitiveValue")
        for item in values:
            if not isinstance(item, str):
                raise errors.odata_bad_literal(item, "Edm.String")
        return [str(v) for v in values]

    def convert(self, type_ref: TypeRef, value: Any, name: str, nullable: bool) -> Any:
        type_label = f"Collection({type_ref.name})" if type_ref.collection else type_ref.name
        if value is None:
            if not nullable and not type_ref.collection:
                raise errors.odata_null_not_allowed(name, type_label)
            if type_ref.collection and not nullable:
                raise errors.odata_null_not_allowed(name, type_label)
            return None
        if type_ref.collection:
            if not isinstance(value, list):
                found = "StartObject" if isinstance(value, dict) else "PrimitiveValue"
                raise errors.odata_unexpected_node(found, "StartArray")
            element = TypeRef(type_ref.name, False)
            out: list[Any] = []
            for item in value:
                if item is None:
                    if not nullable:
                        raise errors.odata_null_not_allowed(name, type_label)
                    out.append(None)
                else:
                    out.append(self.convert(element, item, name, True))
            return out
        if type_ref.is_primitive:
            return convert_primitive(type_ref.name, value)
        enum = self.schema.enums.get(type_ref.name)
        if enum is not None:
            if not isinstance(value, str):
                raise errors.odata_bad_literal(value, type_ref.name)
            members = [m.strip() for m in value.split(",")] if enum.flags else [value]
            for member in members:
                if member not in enum.members:
                    raise errors.GraphError(
                        400,
                        "BadRequest",
                        f"The value '{value}' is not valid for the enumeration type "
                        f"'{type_ref.name}'.",
                    )
            return value
        structured = self.schema.types.get(type_ref.name)
        if structured is None:
            return value
        if not isinstance(value, dict):
            found = "StartArray" if isinstance(value, list) else "PrimitiveValue"
            raise errors.odata_unexpected_node(found, "StartObject")
        return self._convert_structured(type_ref.name, value)

    def _convert_structured(self, declared: str, value: dict[str, Any]) -> dict[str, Any]:
        actual = declared
        out: dict[str, Any] = {}
        if "@odata.type" in value:
            actual = self.resolve_type(declared, value["@odata.type"])
            out["@odata.type"] = "#" + actual
        elif self.schema.types[declared].abstract:
            raise errors.GraphError(
                400,
                "BadRequest",
                f"An instance of abstract type '{declared}' was found. Abstract types cannot "
                "be instantiated; add an '@odata.type' naming a derived type.",
            )
        props = self.props(actual)
        open_type = self.schema.types[actual].open_type
        for key, item in value.items():
            if key.startswith("@") or "@" in key:
                continue
            prop = props.get(key)
            if prop is None:
                if open_type:
                    out[key] = item
                    continue
                raise errors.odata_unknown_property(key, actual)
            out[key] = self.convert(prop.type, item, key, prop.nullable)
        return out


def default_of(prop: Property) -> Any:
    if prop.type.collection:
        return _EMPTY
    if not prop.nullable:
        if prop.type.name == "Edm.Boolean":
            return False
        if prop.type.name in _INT_RANGES:
            return 0
    return None


def convert_primitive(edm: str, value: Any) -> Any:
    """Read a JSON value as ``edm`` the way the OData reader does, or raise its error."""
    if edm in ("Edm.Untyped", "Edm.PrimitiveType"):
        return value
    if isinstance(value, dict | list):
        raise errors.odata_bad_literal(value, edm)
    if edm == "Edm.String":
        if not isinstance(value, str):
            raise errors.odata_bad_literal(value, edm)
        return value
    if edm == "Edm.Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise errors.odata_bad_literal(value, edm)
    if edm in _INT_RANGES:
        low, high = _INT_RANGES[edm]
        number: int
        if isinstance(value, (bool, float)):
            raise errors.odata_bad_literal(value, edm)
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            number = int(value)
        else:
            raise errors.odata_bad_literal(value, edm)
        if not low <= number <= high:
            raise errors.odata_bad_literal(value, edm)
        return number
    if edm in _FLOATS:
        if isinstance(value, bool):
            raise errors.odata_bad_literal(value, edm)
        if isinstance(value, int | float):
            return value
        try:
            return float(value)
        except (TypeError, ValueError):
            raise errors.odata_bad_literal(value, edm) from None
    if not isinstance(value, str):
        raise errors.odata_bad_literal(value, edm)
    if edm == "Edm.Guid":
        from graph_emulator.ids import is_guid

        if not is_guid(value.strip()):
            raise errors.odata_bad_literal(value, edm)
        return value.strip().lower()
    if edm == "Edm.DateTimeOffset":
        moment = parse_datetime(value)
        if moment is None:
            raise errors.odata_bad_literal(value, edm)
        if value.endswith("Z"):
            return value if len(value) > 17 else value[:-1] + ":00Z"
        # Graph stores and returns UTC.
        utc = moment.astimezone(UTC)
        return (
            utc.strftime("%Y-%m-%dT%H:%M:%S")
            + (f".{utc.microsecond:06d}0" if utc.microsecond else "")
            + "Z"
        )
    if edm == "Edm.Date" and not _DATE_RE.match(value):
        raise errors.odata_bad_literal(value, edm)
    if edm == "Edm.TimeOfDay" and not _TIME_RE.match(value):
        raise errors.odata_bad_literal(value, edm)
    if edm == "Edm.Duration" and not _DURATION_RE.match(value):
        raise errors.odata_bad_literal(value, edm)
    if edm == "Edm.Binary":
        padded = value + "=" * (-len(value) % 4)
        try:
            base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise errors.odata_bad_literal(value, edm) from None
    return value


@cache
def shapes() -> Shapes:
    return Shapes(load_schema())
