"""From the body Graph returned to the body a backup hashes and compares.

A backup keeps every property Graph returned, exactly; its hashed body leaves out:
- volatile properties (sign-in activity, service timestamps), which change on their own
  and would make every snapshot store a new version of every object. They are kept
  beside the body (``volatile_part``), in the snapshot's manifest;
- OData control annotations (``@odata.context``, ``@odata.nextLink``, ``*@odata.*``,
  ``*@delta``), which describe the response, not the object. ``@odata.type`` is kept: it
  says which derived type the object is (an ``ipNamedLocation``, say) and is required to
  write it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rewind_common.domain.records import JsonObject
from rewind_common.registry import ObjectType

KEPT_ANNOTATIONS = frozenset({"@odata.type"})


def is_annotation(name: str) -> bool:
    return "@" in name and name not in KEPT_ANNOTATIONS


def normalize_body(object_type: ObjectType, raw: Mapping[str, Any]) -> JsonObject:
    """The stored form of ``raw``: volatile properties and control annotations removed."""
    return {
        name: value
        for name, value in raw.items()
        if name not in object_type.volatile and not is_annotation(name)
    }


def volatile_part(object_type: ObjectType, raw: Mapping[str, Any]) -> JsonObject:
    """The volatile properties of ``raw`` that are set, as Graph returned them. A null
    one is left out (null and missing are the same, DESIGN 6): most are null on most
    objects (deletion and sync times), and a snapshot keeps them for every object."""
    return {
        name: value
        for name, value in raw.items()
        if name in object_type.volatile and value is not None
    }
