"""What a recovery plan is computed from, and which objects it will bring back.

The planner sees the backup's states, the live states (active and in deleted items) and,
optionally, a :class:`ReferenceResolver` for live objects it was not given. It answers
the resolver protocol itself: an object "exists live" when the live states (or, for
objects they do not hold, the caller's resolver) say so, and "will exist" only when this
plan restores or re-creates it. An object outside the scope is never brought back, so a
reference to one that is missing live is unresolvable, never silently re-created.

Which objects come back is a fixed point: a re-creation whose backup references an
object that will not exist cannot be written (never a reduced list), which may in turn
leave others' references unresolvable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rewind_common.domain.changes import Action, Change
from rewind_common.domain.diff import diff_object
from rewind_common.domain.records import ObjectState
from rewind_common.domain.references import ReferenceResolver
from rewind_common.domain.remap import new_app_id_token, new_id_token
from rewind_common.domain.scope import Scope

Key = tuple[str, str]

_REVIVING = (Action.RESTORE, Action.RECREATE)


class PlanContext:
    """The planner's view of the backup, the tenant and the plan's own revivals."""

    def __init__(
        self,
        backup: Iterable[ObjectState],
        live: Iterable[ObjectState],
        *,
        scope: Scope,
        resolver: ReferenceResolver | None = None,
        only: set[Key] | None = None,
    ) -> None:
        self.backup: dict[Key, ObjectState] = {s.key: s for s in backup}
        self.live: dict[Key, ObjectState] = {s.key: s for s in live}
        self.scope = scope
        self.resolver = resolver
        self.only = only
        #: Objects the plan restores or re-creates, with the action that does it.
        self.revived: dict[Key, Action] = {}
        #: Old id or appId → placeholder, for every re-created object.
        self.tokens: dict[str, str] = {}
        self._live_by: dict[tuple[str, str], dict[str, list[ObjectState]]] = {}
        self._revived_by: dict[tuple[str, str], set[str]] = {}

    # --- selection --------------------------------------------------------------------

    def in_scope(self, key: Key) -> bool:
        if self.only is not None and key not in self.only:
            return False
        return self.scope.includes(*key)

    def planned_keys(self) -> list[Key]:
        """Every object the plan considers, in a stable order."""
        return sorted(k for k in self.backup.keys() | self.live.keys() if self.in_scope(k))

    def live_active(self, key: Key) -> ObjectState | None:
        state = self.live.get(key)
        return state if state is not None and not state.deleted else None

    def find_live(self, type_name: str, by: str, value: str) -> list[ObjectState]:
        """Active live objects of a type whose ``by`` property equals ``value``
        (case-insensitively, as Graph matches names and keys)."""
        if by == "id":
            state = self.live_active((type_name, value))
            return [] if state is None else [state]
        index = self._live_by.get((type_name, by))
        if index is None:
            index = {}
            for state in self.live.values():
                found = state.body.get(by) if state.type == type_name else None
                if isinstance(found, str) and not state.deleted:
                    index.setdefault(found.casefold(), []).append(state)
            self._live_by[(type_name, by)] = index
        return list(index.get(value.casefold(), ()))

    def users(self) -> list[ObjectState]:
        """Every user state known, live first, for resolving break-glass accounts."""
        live = [s for s in self.live.values() if s.type == "user" and not s.deleted]
        known = {s.object_id for s in live}
        return live + [
            s for s in self.backup.values() if s.type == "user" and s.object_id not in known
        ]

    # --- ReferenceResolver ------------------------------------------------------------

    def exists_live(self, type: str, value: str, by: str) -> bool:
        if by == "id" and (type, value) in self.live:
            return not self.live[(type, value)].deleted
        if self.find_live(type, by, value):
            return True
        return self.resolver is not None and self.resolver.exists_live(type, value, by)

    def will_exist(self, type: str, value: str, by: str) -> bool:
        if by == "id":
            return (type, value) in self.revived
        return value.casefold() in self._revived_by.get((type, by), set())

    # --- what comes back --------------------------------------------------------------

    def settle(self) -> dict[Key, Change]:
        """Decide which objects come back, then diff every object against that plan."""
        keys = self.planned_keys()
        first = {k: diff_object(self.backup.get(k), self.live.get(k)) for k in keys}
        candidates = {
            k: c.action
            for k, c in first.items()
            if c is not None and c.action in _REVIVING and c.recoverable
        }
        self._check_complete(candidates)
        while True:
            self._revive(candidates)
            dropped = [
                k
                for k, action in candidates.items()
                if action is Action.RECREATE and not self._diff(k).recoverable
            ]
            if not dropped:
                break
            for key in dropped:
                del candidates[key]
        changes: dict[Key, Change] = {}
        for key in keys:
            change = diff_object(self.backup.get(key), self.live.get(key), resolver=self)
            if change is not None:
                changes[key] = change
        return changes

    def _diff(self, key: Key) -> Change:
        change = diff_object(self.backup.get(key), self.live.get(key), resolver=self)
        assert change is not None  # a revival candidate differs by definition
        return change

    def _check_complete(self, candidates: Mapping[Key, Action]) -> None:
        # Re-creating an object that exists but was left out of the live states would
        # duplicate it; the caller's resolver is the only other witness.
        if self.resolver is None:
            return
        for key, action in candidates.items():
            if action is Action.RECREATE and self.resolver.exists_live(key[0], key[1], "id"):
                raise ValueError(
                    f"{key[0]} {key[1]} exists in the tenant but its live state is missing "
                    "from the planner's input"
                )

    def _revive(self, candidates: Mapping[Key, Action]) -> None:
        self.revived = dict(candidates)
        self._revived_by = {}
        self.tokens = {}
        for key, action in candidates.items():
            body: Mapping[str, Any] = self.backup[key].body
            for by, value in body.items():
                if isinstance(value, str) and by in ("appId", "userPrincipalName", "uniqueName"):
                    self._revived_by.setdefault((key[0], by), set()).add(value.casefold())
            if action is Action.RECREATE:
                self.tokens[key[1]] = new_id_token(key[1])
                app_id = body.get("appId")
                if key[0] == "application" and isinstance(app_id, str):
                    self.tokens[app_id] = new_app_id_token(app_id)

    def token_for(self, object_id: str) -> str:
        """The id to write for a reference to ``object_id``: its placeholder when the plan
        re-creates it, else the id itself."""
        return self.tokens.get(object_id, object_id)
