"""The in-memory tenant: objects, recycle bins, links and the change log behind delta.

Bodies are stored sparse (only properties that were ever set, explicit ``null`` kept):
that is what a delta response reports ("a property never set is not included"), and it
keeps a 100,000-object tenant small. Responses fill in the rest from the metadata.

Links to a soft-deleted object are kept but hidden, and come back on restore, as Entra
does for a restored user's group memberships; a permanent delete drops them. App role
assignments of a soft-deleted principal or resource are hidden the same way: the change
log records them leaving and coming back, for ``/directoryObjects/delta``.
"""

from __future__ import annotations

import bisect
import secrets
from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass, field
from typing import Any

Body = dict[str, Any]

#: Object kinds with a collection of their own.
KINDS = (
    "user",
    "group",
    "application",
    "servicePrincipal",
    "conditionalAccessPolicy",
    "namedLocation",
    "oAuth2PermissionGrant",
    "appRoleAssignment",
)
DELTA_KINDS = (
    "user",
    "group",
    "application",
    "servicePrincipal",
    "oAuth2PermissionGrant",
    "appRoleAssignment",
)
#: Link name → kinds whose objects have it.
LINKS = {"members": ("group",), "owners": ("group", "application", "servicePrincipal")}


class SortedIds:
    """Ids in ascending order: list pages and skiptokens walk this, so paging is stable
    while objects are added or removed."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._ids = sorted(ids)

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, object_id: str) -> None:
        index = bisect.bisect_left(self._ids, object_id)
        if index == len(self._ids) or self._ids[index] != object_id:
            self._ids.insert(index, object_id)

    def discard(self, object_id: str) -> None:
        index = bisect.bisect_left(self._ids, object_id)
        if index < len(self._ids) and self._ids[index] == object_id:
            del self._ids[index]

    def after(self, last: str | None) -> Iterator[str]:
        start = 0 if last is None else bisect.bisect_right(self._ids, last)
        for index in range(start, len(self._ids)):
            yield self._ids[index]


@dataclass
class Collection:
    kind: str
    items: dict[str, Body] = field(default_factory=dict)
    order: SortedIds = field(default_factory=SortedIds)
    deleted: dict[str, Body] = field(default_factory=dict)
    deleted_order: SortedIds = field(default_factory=SortedIds)

    def add(self, body: Body) -> None:
        self.items[body["id"]] = body
        self.order.add(body["id"])

    def pop(self, object_id: str) -> Body:
        self.order.discard(object_id)
        return self.items.pop(object_id)


@dataclass
class LinkEvent:
    seq: int
    link: str
    target: str
    added: bool
    #: Kept with the event: a purged target leaves the directory index.
    target_kind: str


@dataclass
class ChangeLog:
    """What changed, in sequence order, for one delta-capable kind."""

    entries: list[tuple[int, str]] = field(default_factory=list)
    last: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    #: Permanently deleted ids: delta reports them with ``@removed: deleted``.
    purged: set[str] = field(default_factory=set)
    links: dict[str, list[LinkEvent]] = field(default_factory=dict)
    #: Per object, the sequence of the last change of each property a PATCH changed...
    properties: dict[str, dict[str, int]] = field(default_factory=dict)
    #: ...and of the last change of the whole object (created, deleted, restored).
    whole: dict[str, int] = field(default_factory=dict)

    def record(self, seq: int, object_id: str, names: Iterable[str] | None = None) -> None:
        """A change of ``object_id``: of the properties ``names``, or of the whole object
        when ``names`` is None (a link change records its event in ``links`` and no names)."""
        self.entries.append((seq, object_id))
        self.last[object_id] = seq
        if names is None:
            self.whole[object_id] = seq
        else:
            changed = self.properties.setdefault(object_id, {})
            for name in names:
                changed[name] = seq
        # Old entries of objects changed again are skipped on read; compact them away
        # once they dominate so the log stays proportional to the tenant.
        if len(self.entries) > 1024 and len(self.entries) > 2 * len(self.last):
            self.entries = [(s, i) for s, i in self.entries if self.last.get(i) == s]

    def tracked_change(
        self, object_id: str, since: int, upto: int, names: Set[str], links: Set[str]
    ) -> bool:
        """Whether ``object_id`` changed in (since, upto] in a way a delta query that
        selected ``names`` and tracks ``links`` reports: Graph's ``$select`` on delta also
        restricts the properties whose changes bring an object into a round."""
        if since < self.whole.get(object_id, 0) <= upto:
            return True
        changed = self.properties.get(object_id, {})
        if any(since < changed.get(name, 0) <= upto for name in names):
            return True
        return any(
            event.link in links and since < event.seq <= upto
            for event in self.links.get(object_id, ())
        )

    def since(self, after_seq: int, upto_seq: int) -> list[tuple[int, str]]:
        """(sequence, id) of the objects whose last change falls in the range, in order.

        An object changed again later is not in the range any more: the round after
        reports it. Rounds page by sequence, so that leaves the others' places intact."""
        start = bisect.bisect_right(self.entries, after_seq, key=lambda e: e[0])
        out = []
        for seq, object_id in self.entries[start:]:
            if seq > upto_seq:
                break
            if self.last.get(object_id) == seq:
                out.append((seq, object_id))
        return out


class Tenant:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.reset()

    def reset(self) -> None:
        #: Changes on every reset so delta tokens of an earlier tenant are refused.
        self.epoch = secrets.token_hex(4)
        self.seq = 0
        self.collections: dict[str, Collection] = {kind: Collection(kind) for kind in KINDS}
        #: Directory object id → kind, for active and soft-deleted objects alike.
        self.directory: dict[str, str] = {}
        self.forward: dict[str, dict[str, dict[str, None]]] = {name: {} for name in LINKS}
        self.reverse: dict[str, dict[str, set[str]]] = {name: {} for name in LINKS}
        self.manager: dict[str, str] = {}
        self.reports: dict[str, set[str]] = {}
        self.by_resource: dict[str, dict[str, None]] = {}
        self.by_principal: dict[str, dict[str, None]] = {}
        self.passwords: dict[str, str] = {}
        #: Lower-cased userPrincipalName → id of active users (``/users/{upn}``).
        self.users_by_upn: dict[str, str] = {}
        #: A soft-deleted user's userPrincipalName before Entra prefixed it with the id.
        self.deleted_upn: dict[str, str] = {}
        self.changes: dict[str, ChangeLog] = {kind: ChangeLog() for kind in DELTA_KINDS}
        self.singletons: dict[str, Body] = {}
        self.method_configurations: dict[str, Body] = {}

    # -- lookups -------------------------------------------------------------------------

    def active(self, kind: str, object_id: str) -> Body | None:
        return self.collections[kind].items.get(object_id)

    def soft_deleted(self, kind: str, object_id: str) -> Body | None:
        return self.collections[kind].deleted.get(object_id)

    def directory_object(self, object_id: str) -> tuple[str, Body] | None:
        """An active directory object (user, group, application, service principal)."""
        kind = self.directory.get(object_id)
        if kind is None:
            return None
        body = self.collections[kind].items.get(object_id)
        return (kind, body) if body is not None else None

    def is_active(self, object_id: str) -> bool:
        kind = self.directory.get(object_id)
        return kind is not None and object_id in self.collections[kind].items

    # -- change log ----------------------------------------------------------------------

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def touch(
        self,
        kind: str,
        object_id: str,
        *,
        created: bool = False,
        names: Iterable[str] | None = None,
    ) -> None:
        log = self.changes.get(kind)
        seq = self.next_seq()
        if log is not None:
            log.record(seq, object_id, names)
            if created:
                log.created[object_id] = seq
                log.purged.discard(object_id)

    # -- object lifecycle ----------------------------------------------------------------

    def insert(self, kind: str, body: Body) -> Body:
        self.collections[kind].add(body)
        if kind in ("user", "group", "application", "servicePrincipal"):
            self.directory[body["id"]] = kind
        self.touch(kind, body["id"], created=True)
        return body

    def update(self, kind: str, object_id: str, values: Body) -> Body:
        body = self.collections[kind].items[object_id]
        changed = [name for name, value in values.items() if body.get(name) != value]
        body.update(values)
        self.touch(kind, object_id, names=changed)
        return body

    def soft_delete(self, kind: str, object_id: str, deleted_at: str) -> Body:
        collection = self.collections[kind]
        body = collection.pop(object_id)
        body["deletedDateTime"] = deleted_at
        collection.deleted[object_id] = body
        collection.deleted_order.add(object_id)
        self._hidden_changed(object_id)
        self.touch(kind, object_id)
        return body

    def restore(self, kind: str, object_id: str) -> Body:
        collection = self.collections[kind]
        body = collection.deleted.pop(object_id)
        collection.deleted_order.discard(object_id)
        body["deletedDateTime"] = None
        collection.add(body)
        self._hidden_changed(object_id, restored=True)
        self.touch(kind, object_id)
        return body

    def purge(self, kind: str, object_id: str) -> Body:
        """Permanent delete, from the active collection or the recycle bin."""
        collection = self.collections[kind]
        if object_id in collection.items:
            was_active = True
            body = collection.pop(object_id)
        else:
            was_active = False
            body = collection.deleted.pop(object_id)
            collection.deleted_order.discard(object_id)
        if was_active:
            self._hidden_changed(object_id)
        self._drop_links(object_id)
        self.directory.pop(object_id, None)
        self.passwords.pop(object_id, None)
        log = self.changes.get(kind)
        if log is not None:
            log.purged.add(object_id)
            log.created.pop(object_id, None)
            log.links.pop(object_id, None)
        self.touch(kind, object_id)
        return body

    # -- links ---------------------------------------------------------------------------

    def link_targets(self, link: str, source: str, *, visible: bool = True) -> list[str]:
        targets = self.forward[link].get(source, {})
        if not visible:
            return list(targets)
        return [t for t in targets if self.is_active(t)]

    def has_link(self, link: str, source: str, target: str) -> bool:
        return target in self.forward[link].get(source, {})

    def add_link(self, link: str, source: str, target: str, *, log: bool = True) -> None:
        self.forward[link].setdefault(source, {})[target] = None
        self.reverse[link].setdefault(target, set()).add(source)
        if log:
            self._link_event(source, link, target, added=True)

    def remove_link(self, link: str, source: str, target: str) -> None:
        self.forward[link].get(source, {}).pop(target, None)
        sources = self.reverse[link].get(target)
        if sources is not None:
            sources.discard(source)
        self._link_event(source, link, target, added=False)

    def set_manager(self, user_id: str, manager_id: str | None, *, log: bool = True) -> None:
        previous = self.manager.pop(user_id, None)
        if previous is not None:
            self.reports.get(previous, set()).discard(user_id)
            if log:
                self._link_event(user_id, "manager", previous, added=False)
        if manager_id is not None:
            self.manager[user_id] = manager_id
            self.reports.setdefault(manager_id, set()).add(user_id)
            if log:
                self._link_event(user_id, "manager", manager_id, added=True)

    def visible_manager(self, user_id: str) -> str | None:
        manager = self.manager.get(user_id)
        return manager if manager is not None and self.is_active(manager) else None

    def _link_event(self, source: str, link: str, target: str, *, added: bool) -> None:
        kind = self.directory.get(source)
        if kind is None:
            return
        log = self.changes.get(kind)
        seq = self.next_seq()
        if log is not None:
            target_kind = self.directory.get(target, "user")
            log.links.setdefault(source, []).append(
                LinkEvent(seq, link, target, added, target_kind)
            )
            log.record(seq, source, names=())

    def _hidden_changed(self, object_id: str, *, restored: bool = False) -> None:
        """A soft delete or restore shows as removed or added links on every object that
        links to ``object_id`` (groups it is a member or owner of, users it manages)."""
        for link in LINKS:
            for source in list(self.reverse[link].get(object_id, ())):
                if self.is_active(source):
                    self._link_event(source, link, object_id, added=restored)
        for report in list(self.reports.get(object_id, ())):
            if self.is_active(report):
                self._link_event(report, "manager", object_id, added=restored)
        assignments = self.collections["appRoleAssignment"].items
        for index in (self.by_principal, self.by_resource):
            for assignment_id in index.get(object_id, ()):
                if assignment_id in assignments:
                    self.touch("appRoleAssignment", assignment_id)

    def _drop_links(self, object_id: str) -> None:
        for link in LINKS:
            for target in list(self.forward[link].pop(object_id, {})):
                self.reverse[link].get(target, set()).discard(object_id)
            for source in list(self.reverse[link].pop(object_id, set())):
                self.forward[link].get(source, {}).pop(object_id, None)
        self.set_manager(object_id, None, log=False)
        for report in list(self.reports.pop(object_id, set())):
            self.manager.pop(report, None)
        for assignment_id in list(self.by_principal.get(object_id, {})) + list(
            self.by_resource.get(object_id, {})
        ):
            if assignment_id in self.collections["appRoleAssignment"].items:
                self.remove_assignment(assignment_id)
        grants = self.collections["oAuth2PermissionGrant"].items
        for grant_id, grant in list(grants.items()):
            if object_id in (
                grant.get("clientId"),
                grant.get("resourceId"),
                grant.get("principalId"),
            ):
                self.purge("oAuth2PermissionGrant", grant_id)

    # -- app role assignments ------------------------------------------------------------

    def add_assignment(self, body: Body) -> None:
        self.collections["appRoleAssignment"].add(body)
        self.by_resource.setdefault(body["resourceId"], {})[body["id"]] = None
        self.by_principal.setdefault(body["principalId"], {})[body["id"]] = None
        self.touch("appRoleAssignment", body["id"], created=True)

    def remove_assignment(self, assignment_id: str) -> Body:
        body = self.collections["appRoleAssignment"].pop(assignment_id)
        self.by_resource.get(body["resourceId"], {}).pop(assignment_id, None)
        self.by_principal.get(body["principalId"], {}).pop(assignment_id, None)
        log = self.changes["appRoleAssignment"]
        log.purged.add(assignment_id)
        log.created.pop(assignment_id, None)
        self.touch("appRoleAssignment", assignment_id)
        return body

    def assignment_visible(self, body: Body) -> bool:
        """Listed only while both its principal and its resource are active."""
        return self.is_active(body["principalId"]) and self.is_active(body["resourceId"])

    def assignments(
        self, *, resource: str | None = None, principal: str | None = None
    ) -> list[Body]:
        index = (
            self.by_resource.get(resource or "", {})
            if resource
            else self.by_principal.get(principal or "", {})
        )
        items = self.collections["appRoleAssignment"].items
        out = []
        for assignment_id in index:
            body = items.get(assignment_id)
            if body is not None and self.assignment_visible(body):
                out.append(body)
        return out

    # -- bulk loading (the generator) ----------------------------------------------------

    def bulk_load(self, kind: str, bodies: list[Body]) -> None:
        """Insert many objects at once: one change-log sequence number for all of them."""
        collection = self.collections[kind]
        seq = self.next_seq()
        log = self.changes.get(kind)
        for body in bodies:
            collection.items[body["id"]] = body
            if kind in ("user", "group", "application", "servicePrincipal"):
                self.directory[body["id"]] = kind
            if log is not None:
                log.entries.append((seq, body["id"]))
                log.last[body["id"]] = seq
                log.created[body["id"]] = seq
        collection.order = SortedIds(collection.items)
