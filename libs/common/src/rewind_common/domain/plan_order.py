"""The order of a recovery plan and the dependencies between its actions.

Phases follow DESIGN section 6: the types in :func:`dependency_order` (named locations,
users, groups, applications, service principals, then grants, assignments and the
policies that reference them), with every ``links`` action in one phase after the last
type links connect, then the soft deletes of added objects, in reverse type order.
Within a phase an object is restored or re-created before it is updated.

An executor starts a phase when the previous one has finished; within a phase, actions
whose dependencies have been applied may run concurrently. ``depends_on`` names what an
action needs applied first (the restore or re-creation of its object, of every object
its body or links point at, and for the soft delete of a named location, the writes
that stop policies using it); a dependency that is not applied means the dependant is
not taken either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache

from rewind_common.domain.actions import ActionWarning, BlockCode, Blocked, PlannedAction
from rewind_common.domain.changes import Action
from rewind_common.domain.plan_context import PlanContext
from rewind_common.domain.references import find_references
from rewind_common.domain.remap import original_id, to_original_ids
from rewind_common.registry import ALL_TYPES, dependency_order, get_type

LINKS_STAGE = "links"
SOFT_DELETE_PREFIX = "softDelete:"
_RANK = {
    Action.RESTORE: 0,
    Action.RECREATE: 1,
    Action.UPDATE: 2,
    Action.LINKS: 3,
    Action.SOFT_DELETE: 4,
}
#: Graph refuses to delete these while a policy still uses them.
_DELETE_BLOCKED_WHILE_USED = frozenset({"namedLocation"})


@cache
def stages() -> tuple[str, ...]:
    """Phase names, in order: each type's writes, ``links``, then each type's soft deletes."""
    order = [t.name for t in dependency_order()]
    linked = {t.name for t in ALL_TYPES if t.links}
    linked |= {target for t in ALL_TYPES for link in t.links for target in link.targets}
    last = max(order.index(name) for name in linked)
    writes = [*order[: last + 1], LINKS_STAGE, *order[last + 1 :]]
    return (*writes, *(SOFT_DELETE_PREFIX + name for name in reversed(order)))


def phase_of(action: PlannedAction) -> int:
    if action.action is Action.SOFT_DELETE:
        return stages().index(SOFT_DELETE_PREFIX + action.type)
    if action.action is Action.LINKS:
        return stages().index(LINKS_STAGE)
    return stages().index(action.type)


def order(actions: Sequence[PlannedAction]) -> list[PlannedAction]:
    """Actions with their phase set, sorted into a valid execution order."""
    type_rank = {name: i for i, name in enumerate(t.name for t in dependency_order())}
    phased = [replace(a, phase=phase_of(a)) for a in actions]
    return sorted(
        phased,
        key=lambda a: (a.phase, _RANK[a.action], type_rank[a.type], a.object_id, a.link or ""),
    )


def link_dependencies(actions: Sequence[PlannedAction], ctx: PlanContext) -> list[PlannedAction]:
    """``actions`` (already ordered) with ``depends_on`` filled in."""
    reviving: dict[str, str] = {}
    reviving_app: dict[str, list[str]] = {}
    for action in actions:
        if action.action in (Action.RESTORE, Action.RECREATE):
            reviving[action.object_id] = action.id
            app_id = ctx.backup[action.key].body.get("appId")
            if isinstance(app_id, str):
                reviving_app.setdefault(app_id, []).append(action.id)
    users_of = _users_of_deleted(actions, ctx)
    position = {a.id: i for i, a in enumerate(actions)}
    out: list[PlannedAction] = []
    for index, action in enumerate(actions):
        needs: set[str] = set()
        if action.action in (Action.UPDATE, Action.LINKS) and action.object_id in reviving:
            needs.add(reviving[action.object_id])
        if action.after is not None and action.action in (Action.UPDATE, Action.RECREATE):
            object_type = get_type(action.type)
            for ref in find_references(object_type, to_original_ids(action.after)):
                if ref.by == "id" and ref.value in reviving:
                    needs.add(reviving[ref.value])
                elif ref.by != "id":
                    needs.update(reviving_app.get(ref.value, ()))
        if action.link_changes is not None:
            needs.update(
                reviving[original_id(t)]
                for t in action.link_changes.add
                if original_id(t) in reviving
            )
        if action.action is Action.SOFT_DELETE:
            needs.update(users_of.get(action.object_id, ()))
        needs.discard(action.id)
        for need in needs:
            if position[need] >= index:
                raise AssertionError(f"{action.id} needs {need}, which is not planned before it")
        out.append(replace(action, depends_on=tuple(sorted(needs, key=position.__getitem__))))
    return out


def _users_of_deleted(actions: Sequence[PlannedAction], ctx: PlanContext) -> dict[str, set[str]]:
    """For each object the plan soft-deletes and Graph protects while in use: the actions
    on objects whose live body uses it."""
    doomed = {
        a.object_id
        for a in actions
        if a.action is Action.SOFT_DELETE and a.type in _DELETE_BLOCKED_WHILE_USED
    }
    users: dict[str, set[str]] = {}
    if not doomed:
        return users
    for action in actions:
        live = ctx.live.get(action.key)
        if live is None or action.action in (Action.LINKS, Action.RECREATE):
            continue
        for ref in find_references(get_type(action.type), live.body):
            if ref.value in doomed:
                users.setdefault(ref.value, set()).add(action.id)
    return users


def propagate_blocks(actions: Sequence[PlannedAction]) -> list[PlannedAction]:
    """Block every action that depends on a blocked one (in order, so chains follow)."""
    blocked: dict[str, PlannedAction] = {}
    out: list[PlannedAction] = []
    for action in actions:
        if action.blocked is None:
            cause = next((blocked[d] for d in action.depends_on if d in blocked), None)
            if cause is not None:
                assert cause.blocked is not None
                reason = f"depends on {cause.id}, which will not be taken: {cause.blocked.message}"
                warning = ActionWarning(action.type, action.object_id, reason)
                action = replace(
                    action,
                    blocked=Blocked(BlockCode.DEPENDENCY, reason),
                    requests=(),
                    after=None,
                    warnings=(*action.warnings, warning),
                )
        if action.blocked is not None:
            blocked[action.id] = action
        out.append(action)
    return out
