"""The vocabulary of the object-type registry.

Property paths are dotted JSON paths into a Graph body; ``[]`` steps into every element
of an array: ``conditions.users.excludeGroups``,
``authenticationMethodConfigurations[].includeTargets[].id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Listing(StrEnum):
    """How the snapshotter enumerates a type."""

    COLLECTION = "collection"  # GET {path} with paging
    SINGLETON = "singleton"  # GET {path} returns the one object
    PER_PARENT = "perParent"  # GET {path} with {parentId} for every object of the parent type


class SoftDelete(StrEnum):
    NONE = "none"
    DIRECTORY = "directory"  # /directory/deletedItems
    CONDITIONAL_ACCESS = "conditionalAccess"  # /identity/conditionalAccess/deletedItems/...


class IdFormat(StrEnum):
    """The shape of a type's object ids, which scopes validate."""

    GUID = "guid"  # directory objects, CA policies, named locations, the organization
    BASE64URL = "base64url"  # grants and app role assignments: Graph's opaque ids
    TYPE_NAME = "typeName"  # singletons: the one object's id is the type's own name


@dataclass(frozen=True)
class Contains:
    """Matches bodies whose collection at ``path`` holds ``value`` (compared
    case-insensitively, as Graph does for ``groupTypes``)."""

    path: str
    value: str

    def matches(self, body: Mapping[str, Any]) -> bool:
        current: Any = body
        for step in self.path.split("."):
            current = current.get(step) if isinstance(current, Mapping) else None
        if not isinstance(current, list):
            return False
        wanted = self.value.casefold()
        return any(isinstance(item, str) and item.casefold() == wanted for item in current)


@dataclass(frozen=True)
class UnorderedCollection:
    """A collection compared as a set; object elements are matched by ``key`` when given."""

    path: str
    key: str | None = None


@dataclass(frozen=True)
class Reference:
    """A property that holds ids of other backed-up objects.

    ``by`` names the target's property the value refers to (``id`` for object ids,
    ``appId`` for application ids). ``literals`` are values Graph accepts in the same
    field that are not references (``All``, ``None``, ``GuestsOrExternalUsers``...).
    ``external`` references may name objects of other tenants (a multi-tenant
    application's ``appId``): a value found nowhere in this tenant is not an error.
    """

    path: str
    targets: tuple[str, ...]
    by: str = "id"
    literals: frozenset[str] = frozenset()
    external: bool = False


@dataclass(frozen=True)
class Link:
    """A relationship backed up as a set of object ids (or a single id for ``manager``).

    ``navigation`` is the Graph navigation property (``members``, ``owners``, ``manager``);
    ``bind_limit`` is how many ``@odata.bind`` references Graph accepts in one request.
    """

    name: str
    navigation: str
    targets: tuple[str, ...]
    many: bool = True
    bind_limit: int = 20


@dataclass(frozen=True)
class ChildCollection:
    """Objects embedded in a parent's body but written through their own path.

    The authentication methods policy returns its method configurations inline; each is
    updated with ``PATCH {parent path}/{property}/{id}``.
    """

    property: str
    key: str = "id"


@dataclass(frozen=True)
class ObjectType:
    """Everything the services need to know to back up, diff and recover one type."""

    name: str
    #: Entity type in Graph's v1.0 metadata (namespace ``microsoft.graph``).
    entity: str
    path: str
    listing: Listing = Listing.COLLECTION
    #: For ``PER_PARENT`` listings: the parent's type name; ``path`` holds ``{parentId}``.
    parent: str | None = None
    #: For ``PER_PARENT`` listings whose ids begin with another object's GUID (an app
    #: role assignment's id starts with its principal's, as in every example of
    #: Microsoft's docs): that object's listings, ``{ownerId}`` in the path, where an
    #: object whose parent is unknown is found without reading under every parent.
    id_owner_paths: tuple[str, ...] = ()
    #: Concrete derived entity types the collection may hold (``@odata.type`` required).
    derived_entities: tuple[str, ...] = ()
    key: str = "id"
    display_name: str = "displayName"
    #: Properties requested with ``$select`` when Graph's default set is incomplete.
    select: tuple[str, ...] = ()
    #: The delta query that tracks the type's changes.
    delta_path: str | None = None
    #: ``$filter`` of a delta query several types share (``/directoryObjects/delta``):
    #: its rounds carry objects of other types too, told apart by ``@odata.type``.
    delta_filter: str | None = None
    #: Whether the delta query's first round is how the type is read whole. When the
    #: filter must name a far larger type too (app role assignments are tracked only
    #: along with users), a whole read lists the type instead, and tracking starts from
    #: a ``$deltatoken=latest`` link taken before the listing.
    delta_first_round: bool = True
    soft_delete: SoftDelete = SoftDelete.NONE
    #: When given, only objects matching it go to deleted items; the others are deleted
    #: permanently (security groups: only Microsoft 365 groups are soft-deleted).
    soft_delete_when: Contains | None = None
    id_format: IdFormat = IdFormat.GUID
    #: Set by the service, never written: stripped before every POST and PATCH.
    read_only: frozenset[str] = frozenset()
    #: Writable when the object is created, never afterwards.
    create_only: frozenset[str] = frozenset()
    #: Required in a create request.
    required_on_create: frozenset[str] = frozenset()
    #: If given, the only properties an update may carry (everything else is read-only).
    writable_only: frozenset[str] | None = None
    #: Change on their own (sign-ins, service timestamps): never hashed, never diffed.
    volatile: frozenset[str] = frozenset()
    #: Cannot be written back from a backup, with the reason reported to the user.
    not_recoverable: dict[str, str] = field(default_factory=dict)
    #: Written by on-premises synchronisation when ``onPremisesSyncEnabled`` is true.
    synced_mastered: frozenset[str] = frozenset()
    unordered: tuple[UnorderedCollection, ...] = ()
    case_insensitive: frozenset[str] = frozenset()
    #: Strings holding a space-separated set of words (a grant's ``scope``): their order
    #: and spacing carry no meaning, so they compare as sets.
    word_sets: frozenset[str] = frozenset()
    references: tuple[Reference, ...] = ()
    links: tuple[Link, ...] = ()
    children: tuple[ChildCollection, ...] = ()
    #: Types whose objects must exist before objects of this type are written.
    depends_on: tuple[str, ...] = ()
    #: No PATCH: a changed object is replaced (delete, then create).
    immutable: bool = False
    #: Objects can be created and deleted (singletons and the organization cannot).
    creatable: bool = True

    @property
    def has_delta(self) -> bool:
        """Whether the type is read whole through its delta query's first round."""
        return self.delta_path is not None and self.delta_first_round

    @property
    def tracks_changes(self) -> bool:
        """Whether a delta query reports the type's changes since an earlier round."""
        return self.delta_path is not None

    @property
    def restorable(self) -> bool:
        return self.soft_delete is not SoftDelete.NONE

    def deletes_permanently(self, body: Mapping[str, Any]) -> bool:
        """Whether deleting this object skips the recycle bin (no restore possible)."""
        if not self.restorable:
            return True
        return self.soft_delete_when is not None and not self.soft_delete_when.matches(body)

    def link(self, name: str) -> Link:
        for link in self.links:
            if link.name == name:
                return link
        raise KeyError(f"{self.name} has no link {name!r}")

    def is_writable(self, prop: str, *, creating: bool = False) -> bool:
        """Whether a top-level property may be sent in a create or update request."""
        if prop == self.key or prop.startswith("@") or "@" in prop:
            return prop == "@odata.type"
        if prop in self.read_only or prop in self.volatile or prop in self.not_recoverable:
            return False
        if creating:
            return True
        if prop in self.create_only:
            return False
        return self.writable_only is None or prop in self.writable_only
