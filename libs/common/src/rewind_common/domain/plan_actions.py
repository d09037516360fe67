"""From one object's change to the actions that undo it.

Every builder returns actions whose requests write only what Graph accepts and what the
change says is recoverable; what it leaves out becomes a warning. An action that cannot
be taken is still returned, blocked with the reason, so a dry run lists it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from rewind_common.domain.actions import (
    ActionWarning,
    BlockCode,
    Blocked,
    LinkDelta,
    PlannedAction,
    action_id,
)
from rewind_common.domain.apply import Direction, apply_change
from rewind_common.domain.changes import Action, Change, LinkChange
from rewind_common.domain.natural_keys import matching_live, natural_key
from rewind_common.domain.paths import is_within
from rewind_common.domain.plan_context import PlanContext
from rewind_common.domain.records import JsonObject, ObjectState
from rewind_common.domain.references import (
    find_references,
    references_in,
    rewrite_references,
    unresolvable,
)
from rewind_common.domain.remap import PASSWORD
from rewind_common.domain.requests import (
    PlannedRequest,
    collection_url,
    create_body,
    link_requests,
    missing_on_create,
    object_url,
    restore_url,
    update_requests,
    writable_on_update,
)
from rewind_common.registry import ObjectType, get_type

FIRST_SIGN_IN_WARNING = (
    "re-created with a new random password that is never stored or shown and must be "
    "changed at next sign-in: reset it (or issue a Temporary Access Pass) to hand the "
    "account back"
)
#: Graph allows one request per second per tenant on these: a $batch would only collect
#: 429s, so they are sent one at a time.
ONE_PER_SECOND = frozenset({"conditionalAccessPolicy", "namedLocation"})
#: Properties that may embed an application's own appId (``api://{appId}``).
_APP_ID_HOLDERS = ("identifierUris", "servicePrincipalNames")


def _top(path: str) -> str:
    cut = min((i for i in (path.find("."), path.find("[")) if i >= 0), default=len(path))
    return path[:cut]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def is_synced(object_type: ObjectType, body: Mapping[str, Any]) -> bool:
    return bool(object_type.synced_mastered) and body.get("onPremisesSyncEnabled") is True


def out_of_reach(object_type: ObjectType, path: str, synced: bool) -> bool:
    """Whether Graph cannot write ``path`` on update whatever its references."""
    names = [*object_type.not_recoverable, *object_type.create_only]
    if synced:
        names.extend(object_type.synced_mastered)
    return any(is_within(path, name) for name in names)


class ActionBuilder:
    """Builds the actions of one plan; ``protected`` are break-glass user ids."""

    def __init__(self, ctx: PlanContext, protected: frozenset[str] = frozenset()) -> None:
        self.ctx = ctx
        self.protected = protected

    def for_change(self, change: Change) -> list[PlannedAction]:
        key = (change.type, change.object_id)
        live = self.ctx.live.get(key)
        if change.action is Action.SOFT_DELETE:
            assert live is not None
            return [self.soft_delete(change, live)]
        if change.action is Action.RECREATE:
            created = self.recreate(change, self.ctx.backup[key])
            if created.blocked is not None:
                return [created]
            return [created, *self.links(change, self.ctx.token_for(change.object_id))]
        assert live is not None
        out: list[PlannedAction] = []
        if change.action is Action.RESTORE:
            restored = self.restore(change, live)
            if restored.blocked is not None:
                return [restored]
            out.append(restored)
        update = self.update(live, change)
        if update is not None:
            out.append(update)
        return out + self.links(change, change.object_id)

    # --- update -----------------------------------------------------------------------

    def update(self, live: ObjectState, change: Change | None) -> PlannedAction | None:
        """The update taking ``live`` back to the backup, with references to re-created
        objects pointed at their placeholders; also used with no change, to repair the
        references of an object that did not change itself."""
        object_type = get_type(live.type)
        synced = is_synced(object_type, live.body)
        after: JsonObject = copy.deepcopy(dict(live.body))
        tops: list[str] = []
        warnings: list[str] = []
        missing: list[str] = []
        for prop in change.properties if change is not None else ():
            if prop.recoverable:
                tops.append(_top(prop.path))
                if not writable_on_update(object_type, _top(prop.path)):
                    warnings.append(f"{prop.path}: cannot be changed on an existing object")
                continue
            if not out_of_reach(object_type, prop.path, synced):
                refs = unresolvable(self.ctx, references_in(object_type, prop.path, prop.backup))
                if refs:
                    missing.extend(ref.describe() for ref in refs)
                    continue
            warnings.append(f"{prop.path}: {prop.reason}")
        if change is not None:
            after = apply_change(after, change, direction=Direction.REVERSE, only_recoverable=True)
        if self.ctx.tokens:
            rewritten = rewrite_references(object_type, after, self.ctx.tokens)
            for name in rewritten:
                if rewritten[name] != after.get(name):
                    tops.append(name)
                    if not writable_on_update(object_type, name):
                        warnings.append(
                            f"{name} still names a re-created object by its old id: Graph "
                            "does not let it change after creation"
                        )
            after = rewritten
        ident = action_id(Action.UPDATE, live.type, live.object_id)
        if missing:
            reason = "; ".join(_unique(missing)) + " (nothing is written: never a reduced list)"
            return self._blocked(
                ident,
                live,
                Action.UPDATE,
                change,
                BlockCode.UNRESOLVABLE_REFERENCE,
                reason,
                before=live.body,
                warnings=warnings,
            )
        writable = [t for t in _unique(tops) if writable_on_update(object_type, t)]
        url = object_url(object_type, live.object_id, live.body)
        requests, notes = update_requests(object_type, url, live.body, after, writable)
        warnings.extend(notes)
        if not requests:
            if not warnings:
                return None
            reason = "nothing Graph accepts differs: " + "; ".join(_unique(warnings))
            return self._blocked(
                ident,
                live,
                Action.UPDATE,
                change,
                BlockCode.NOTHING_WRITABLE,
                reason,
                before=live.body,
                warnings=warnings,
            )
        return PlannedAction(
            id=ident,
            type=live.type,
            object_id=live.object_id,
            action=Action.UPDATE,
            display_name=_display(change, live),
            requests=tuple(requests),
            properties=tuple(writable),
            before=copy.deepcopy(dict(live.body)),
            after=after,
            batchable=live.type not in ONE_PER_SECOND,
            warnings=self._warnings(live, warnings),
            reason=None if change is None else change.reason,
        )

    # --- restore, re-create, soft delete ----------------------------------------------

    def restore(self, change: Change, live: ObjectState) -> PlannedAction:
        object_type = get_type(change.type)
        ident = action_id(Action.RESTORE, change.type, change.object_id)
        if not change.recoverable:
            return self._blocked(
                ident,
                live,
                Action.RESTORE,
                change,
                BlockCode.NOT_RECOVERABLE,
                change.reason or "cannot be restored",
                before=live.body,
            )
        return PlannedAction(
            id=ident,
            type=change.type,
            object_id=change.object_id,
            action=Action.RESTORE,
            display_name=_display(change, live),
            requests=(PlannedRequest("POST", restore_url(object_type, change.object_id)),),
            before=copy.deepcopy(dict(live.body)),
            after=copy.deepcopy(dict(live.body)),
            batchable=change.type not in ONE_PER_SECOND,
            reason=change.reason,
        )

    def recreate(self, change: Change, backup: ObjectState) -> PlannedAction:
        object_type = get_type(change.type)
        ident = action_id(Action.RECREATE, change.type, change.object_id)
        if not change.recoverable:
            refs = unresolvable(self.ctx, find_references(object_type, backup.body))
            code = BlockCode.UNRESOLVABLE_REFERENCE if refs else BlockCode.NOT_RECOVERABLE
            return self._blocked(
                ident,
                backup,
                Action.RECREATE,
                change,
                code,
                change.reason or "cannot be re-created",
            )
        body = rewrite_references(
            object_type, create_body(object_type, backup.body), self.ctx.tokens
        )
        warnings = [
            f"{name} not recoverable: {reason}"
            for name, reason in object_type.not_recoverable.items()
            if name != "passwordProfile" and backup.body.get(name)
        ]
        if object_type.name == "user":
            body["passwordProfile"] = {"forceChangePasswordNextSignIn": True, "password": PASSWORD}
            warnings.insert(0, FIRST_SIGN_IN_WARNING)
        old_app_id = backup.body.get("appId")
        old_app_id = old_app_id if isinstance(old_app_id, str) else None
        if old_app_id is not None and old_app_id in self.ctx.tokens:
            for name in _APP_ID_HOLDERS:
                if isinstance(body.get(name), list):
                    token = self.ctx.tokens[old_app_id]
                    body[name] = [
                        v.replace(old_app_id, token) if isinstance(v, str) else v
                        for v in body[name]
                    ]
        absent = missing_on_create(object_type, body)
        if absent:
            reason = f"the backup lacks {', '.join(absent)}, which Graph requires to create it"
            return self._blocked(
                ident, backup, Action.RECREATE, change, BlockCode.NOT_RECOVERABLE, reason
            )
        matches = matching_live(self.ctx, change.type, body)
        conflict = self._conflict(object_type, body, matches)
        if conflict is not None:
            return self._blocked(
                ident, backup, Action.RECREATE, change, BlockCode.CONFLICT, conflict
            )
        preexisting = tuple(sorted(s.object_id for s in matches))
        if preexisting:
            warnings.append(
                f"{', '.join(preexisting)} already match what identifies this "
                f"{object_type.name} ({_key_names(change.type, body)}); a new one is "
                "created next to them"
            )
        return PlannedAction(
            id=ident,
            type=change.type,
            object_id=change.object_id,
            action=Action.RECREATE,
            display_name=_display(change, backup),
            requests=(PlannedRequest("POST", collection_url(object_type, body), body),),
            properties=tuple(body),
            after=copy.deepcopy(body),
            batchable=change.type not in ONE_PER_SECOND,
            warnings=self._warnings(backup, warnings),
            old_app_id=old_app_id if object_type.name == "application" else None,
            preexisting=preexisting,
            reason=change.reason,
        )

    def _conflict(
        self, object_type: ObjectType, body: Mapping[str, Any], matches: list[ObjectState]
    ) -> str | None:
        # Graph refuses a second object with a unique key: better said now than as a 400.
        key = natural_key(object_type.name, body)
        if key is None or not key.unique:
            return None
        holders = [s.object_id for s in matches]
        if not holders and len(key.properties) == 1:
            value = body.get(key.properties[0])
            taken = isinstance(value, str) and "{{" not in value
            if not (
                taken and self.ctx.exists_live(object_type.name, str(value), key.properties[0])
            ):
                return None
            holders = ["(not loaded)"]
        elif not holders:
            return None
        return (
            f"{object_type.name} {', '.join(holders)} already has the "
            f"{_key_names(object_type.name, body)} this one needs, and Graph refuses a "
            "second; remove or change it first (if this recovery soft-deletes it, run the "
            "recovery again afterwards)"
        )

    def soft_delete(self, change: Change, live: ObjectState) -> PlannedAction:
        object_type = get_type(change.type)
        ident = action_id(Action.SOFT_DELETE, change.type, change.object_id)
        if change.type == "user" and change.object_id in self.protected:
            reason = (
                "a break-glass account named in the tenant settings is never deleted by a recovery"
            )
            return self._blocked(
                ident,
                live,
                Action.SOFT_DELETE,
                change,
                BlockCode.PROTECTED,
                reason,
                before=live.body,
            )
        if not change.recoverable:
            return self._blocked(
                ident,
                live,
                Action.SOFT_DELETE,
                change,
                BlockCode.NOT_RECOVERABLE,
                change.reason or "cannot be deleted",
                before=live.body,
            )
        return PlannedAction(
            id=ident,
            type=change.type,
            object_id=change.object_id,
            action=Action.SOFT_DELETE,
            display_name=_display(change, live),
            requests=(
                PlannedRequest("DELETE", object_url(object_type, live.object_id, live.body)),
            ),
            before=copy.deepcopy(dict(live.body)),
            batchable=change.type not in ONE_PER_SECOND,
            reason=change.reason,
        )

    # --- links ------------------------------------------------------------------------

    def links(self, change: Change, source: str) -> list[PlannedAction]:
        object_type = get_type(change.type)
        state = (
            self.ctx.live.get((change.type, change.object_id))
            or self.ctx.backup[(change.type, change.object_id)]
        )
        out = []
        for link in object_type.links:
            if link.name in change.links:
                out.append(
                    self._link(
                        object_type, change, state, link.name, change.links[link.name], source
                    )
                )
        return out

    def _link(
        self,
        object_type: ObjectType,
        change: Change,
        state: ObjectState,
        name: str,
        delta: LinkChange,
        source: str,
    ) -> PlannedAction:
        ident = action_id(Action.LINKS, change.type, change.object_id, name)
        many = object_type.link(name).many
        adds = tuple(
            sorted(self.ctx.token_for(t) for t in delta.removed if t not in delta.unresolvable)
        )
        removes = tuple(sorted(delta.added))
        if not many and adds:
            removes = ()  # PUT replaces the manager
        warnings = [f"{name}: {delta.reason}"] if delta.reason else []
        backup = self.ctx.backup.get(state.key)
        group_types = (backup or state).body.get("groupTypes") or []
        blocked: tuple[BlockCode, str] | None = None
        if name == "members" and any(str(g).casefold() == "dynamicmembership" for g in group_types):
            blocked = (
                BlockCode.NOT_RECOVERABLE,
                "members of a dynamic group follow its membership rule",
            )
        elif not delta.recoverable or (not adds and not removes):
            code = (
                BlockCode.UNRESOLVABLE_REFERENCE
                if delta.unresolvable
                else BlockCode.NOT_RECOVERABLE
            )
            blocked = (code, delta.reason or "nothing to write")
        if blocked is not None:
            action = self._blocked(
                ident, state, Action.LINKS, change, blocked[0], blocked[1], warnings=warnings
            )
            return replace(action, link=name)
        if many:
            before: Any = {name: list(removes)}
            after: Any = {name: list(adds)}
        else:
            # A re-created object has no manager yet, whatever its backup says.
            live = self.ctx.live.get(state.key)
            before = {name: None if live is None else live.links.get(name)}
            after = {name: adds[0] if adds else None}
        return PlannedAction(
            id=ident,
            type=change.type,
            object_id=change.object_id,
            action=Action.LINKS,
            display_name=_display(change, state),
            link=name,
            requests=tuple(link_requests(object_type, name, source, adds, removes)),
            before=before,
            after=after,
            link_changes=LinkDelta(add=adds, remove=removes),
            warnings=self._warnings(state, warnings),
            reason=change.reason,
        )

    # --- helpers ----------------------------------------------------------------------

    def _warnings(self, state: ObjectState, reasons: Iterable[str]) -> tuple[ActionWarning, ...]:
        return tuple(ActionWarning(state.type, state.object_id, r) for r in _unique(reasons))

    def _blocked(
        self,
        ident: str,
        state: ObjectState,
        action: Action,
        change: Change | None,
        code: BlockCode,
        reason: str,
        *,
        before: Any = None,
        warnings: Iterable[str] = (),
    ) -> PlannedAction:
        return PlannedAction(
            id=ident,
            type=state.type,
            object_id=state.object_id,
            action=action,
            display_name=_display(change, state),
            before=None if before is None else copy.deepcopy(dict(before)),
            batchable=state.type not in ONE_PER_SECOND,
            warnings=self._warnings(state, [*warnings, reason]),
            blocked=Blocked(code, reason),
            reason=None if change is None else change.reason,
        )


def _key_names(type_name: str, body: Mapping[str, Any]) -> str:
    key = natural_key(type_name, body)
    return " and ".join(key.properties) if key is not None else "identity"


def _display(change: Change | None, state: ObjectState) -> str | None:
    return (change.display_name if change is not None else None) or state.display_name
