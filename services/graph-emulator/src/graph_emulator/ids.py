"""Identifiers and timestamps in the formats Graph uses.

Directory objects have GUIDs. ``oAuth2PermissionGrant`` and ``appRoleAssignment`` ids are
not GUIDs: Graph returns base64url of the little-endian bytes of the GUIDs that identify
them (client, resource and principal for a grant; principal plus a link id for an
assignment) — visible in every documented example, so clients must treat them as opaque
strings.
"""

from __future__ import annotations

import base64
import random
import re
import uuid
from datetime import UTC, datetime

GUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def is_guid(value: str) -> bool:
    return bool(GUID_RE.match(value))


_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)


def new_guid(rng: random.Random | None = None) -> str:
    """A random (version 4) GUID; from ``rng`` when given, so generated tenants repeat."""
    if rng is None:
        return str(uuid.uuid4())
    h = f"{(rng.getrandbits(128) & _VERSION_MASK) | _VERSION_BITS:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def grant_id(client_id: str, resource_id: str, principal_id: str | None) -> str:
    raw = uuid.UUID(client_id).bytes_le + uuid.UUID(resource_id).bytes_le
    if principal_id:
        raw += uuid.UUID(principal_id).bytes_le
    return _b64url(raw)


def assignment_id(principal_id: str, rng: random.Random | None = None) -> str:
    link = uuid.UUID(new_guid(rng))
    return _b64url(uuid.UUID(principal_id).bytes_le + link.bytes_le)


def security_identifier(object_id: str) -> str:
    """Entra's cloud SID: ``S-1-12-1-`` and the GUID's bytes read as four uint32s."""
    raw = uuid.UUID(object_id).bytes_le
    a, b, c, d = (int.from_bytes(raw[i : i + 4], "little") for i in (0, 4, 8, 12))
    return f"S-1-12-1-{a}-{b}-{c}-{d}"


def timestamp(moment: datetime | None = None) -> str:
    """Directory objects carry whole seconds: ``2021-09-21T07:09:14Z``."""
    moment = moment or datetime.now(UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def precise_timestamp(moment: datetime | None = None) -> str:
    """Applications and policies carry 7 fractional digits: ``...T19:10:35.2742618Z``."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def error_date(moment: datetime | None = None) -> str:
    """``innerError.date``: ``2025-02-13T10:17:06``."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
