"""What reading a tenant can fail with, beyond Graph's own errors."""

from __future__ import annotations

from rewind_common.errors import GraphError, RewindError

#: Graph's answers to a delta token it no longer knows: directory objects answer 400
#: ``syncStateNotFound`` after the token's seven days ("Duration of change tracking tokens
#: for identity and education resources", Microsoft 365 Developer Blog, 2020-07-03);
#: other workloads answer 410 Gone or ``resyncRequired``.
EXPIRED_DELTA_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})


class TypeNotReadable(RewindError):
    """Graph refused to let these credentials read a type (403): the caller reports the
    type as a warning and carries on with the others."""

    code = "typeNotReadable"

    def __init__(self, type_name: str, cause: GraphError) -> None:
        super().__init__(
            f"{self._what(type_name)} (Graph answered {cause.status} {cause.graph_code})",
            details={"type": type_name, "status": cause.status, "graphCode": cause.graph_code},
        )
        self.type_name = type_name
        self.cause = cause

    @staticmethod
    def _what(type_name: str) -> str:
        return f"the credentials may not read {type_name} objects"


class DeletedItemsNotReadable(TypeNotReadable):
    """Graph would not list a type's deleted items (403 for these credentials; 400 or
    404 where the recycle bin is not offered: Conditional Access's is documented under
    beta). A caller that can do without them keeps the live objects and says so; one
    that cannot treats the type as unreadable."""

    code = "deletedItemsNotReadable"

    @staticmethod
    def _what(type_name: str) -> str:
        return f"the deleted {type_name} objects could not be read"


#: Answers to a listing of deleted items that say it cannot be had, not that it failed.
DELETED_ITEMS_REFUSED = frozenset({400, 403, 404})


class DeltaExpired(RewindError):
    """A stored delta link is no longer valid: the type must be read in full again."""

    code = "deltaExpired"

    def __init__(self, type_name: str, cause: GraphError) -> None:
        super().__init__(
            f"the delta link of {type_name} has expired ({cause.graph_code})",
            details={"type": type_name, "graphCode": cause.graph_code},
        )
        self.type_name = type_name


def is_forbidden(error: GraphError) -> bool:
    return error.status == 403


def is_expired_delta(error: GraphError) -> bool:
    return error.status == 410 or error.graph_code.casefold() in EXPIRED_DELTA_CODES
