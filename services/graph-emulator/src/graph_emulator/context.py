"""What a route handler gets: the request, the tenant and helpers to read and answer it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph_emulator import errors
from graph_emulator.config import Config
from graph_emulator.http import Request, parse_json
from graph_emulator.query import Query, parse_query
from graph_emulator.schema import Shapes
from graph_emulator.store import Tenant


@dataclass
class Ctx:
    request: Request
    tenant: Tenant
    shapes: Shapes
    config: Config
    params: dict[str, str] = field(default_factory=dict)
    _query: Query | None = None

    @property
    def query(self) -> Query:
        if self._query is None:
            self._query = parse_query(self.request)
        return self._query

    @property
    def base(self) -> str:
        return self.request.base_url

    def metadata(
        self, fragment: str, select: list[str] | None = None, *, entity: bool = False
    ) -> str:
        """``@odata.context``: ``…/$metadata#users(displayName,mail)/$entity``."""
        url = f"{self.base}/$metadata#{fragment}"
        if select:
            url += "(" + ",".join(select) + ")"
        if entity:
            url += "/$entity"
        return url

    def json_body(self) -> Any:
        body = self.request.body
        if not body or not body.strip():
            raise errors.invalid_json()
        try:
            return parse_json(body)
        except ValueError:
            raise errors.invalid_json() from None

    def object_url(self, kind: str, object_id: str) -> str:
        """The ``@odata.id`` form Graph returns for directory objects."""
        type_name = kind[0].upper() + kind[1:]
        return (
            f"{self.request.origin}/v2/{self.tenant.tenant_id}/directoryObjects/{object_id}/"
            f"Microsoft.DirectoryServices.{type_name}"
        )
