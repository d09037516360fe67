"""Reading a tenant through Microsoft Graph, as the registry describes each type: shared
by the snapshotter (whole tenants, delta rounds), the differ and the recoverer (specific
objects). See ``reader`` for the API and ``links`` for how links are read and why."""

from rewind_common.tenant.errors import DeletedItemsNotReadable, DeltaExpired, TypeNotReadable
from rewind_common.tenant.model import Cursor, DeltaItem, DeltaPage, LinkOps, StatePage
from rewind_common.tenant.reader import TenantReader

__all__ = [
    "Cursor",
    "DeletedItemsNotReadable",
    "DeltaExpired",
    "DeltaItem",
    "DeltaPage",
    "LinkOps",
    "StatePage",
    "TenantReader",
    "TypeNotReadable",
]
