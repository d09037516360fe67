"""Recovery plans: what a recovery will write to take the tenant back to a backup.

:func:`build_plan` compares backed-up states with live ones (DESIGN section 6), turns
every difference in scope into actions with their exact Graph requests, orders them by
dependency, and checks the safety rules before anything is written:

- a reference that cannot be resolved fails its action; a reduced list is never written;
- break-glass accounts stay excluded from every Conditional Access policy the plan
  writes (:mod:`.breakglass`), or the plan is refused with :class:`PlanRefused`;
- what cannot be written (synced properties, secrets, passwords) becomes a warning.

A plan is pure data: it holds placeholders (:mod:`.remap`) for ids Graph assigns while
the recovery runs, never a password, and its action ids are the same whenever it is
recomputed, so a resumed recovery recognises what it already applied (:mod:`.idempotency`).
The same plan is a recovery's dry run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rewind_common.domain.actions import ActionWarning, Outcome, PlannedAction
from rewind_common.domain.breakglass import (
    BreakGlassAccount,
    PolicyOutcome,
    check_policies,
    find_accounts,
    require_accounts,
)
from rewind_common.domain.changes import Action, Change
from rewind_common.domain.plan_actions import ActionBuilder
from rewind_common.domain.plan_context import Key, PlanContext
from rewind_common.domain.plan_order import link_dependencies, order, propagate_blocks, stages
from rewind_common.domain.records import ObjectState
from rewind_common.domain.references import ReferenceResolver, find_references
from rewind_common.domain.remap import original_id, to_original_ids
from rewind_common.domain.scope import Scope
from rewind_common.registry import get_type

CA_POLICY = "conditionalAccessPolicy"


@dataclass(frozen=True)
class RecoveryPlan:
    """An ordered list of actions; stored with a recovery and shown as its dry run."""

    actions: tuple[PlannedAction, ...]
    scope: Scope = field(default_factory=Scope.everything)
    break_glass: tuple[BreakGlassAccount, ...] = ()

    def action(self, action_id: str) -> PlannedAction:
        for action in self.actions:
            if action.id == action_id:
                return action
        raise KeyError(action_id)

    @property
    def warnings(self) -> tuple[ActionWarning, ...]:
        return tuple(dict.fromkeys(w for a in self.actions for w in a.warnings))

    @property
    def writes(self) -> int:
        """Graph write requests the plan sends if every action is taken."""
        return sum(len(a.requests) for a in self.actions)

    def summary(self) -> dict[str, dict[str, int]]:
        """Action counts per type (DESIGN section 7's ``summary``)."""
        out: dict[str, dict[str, int]] = {}
        for action in self.actions:
            per_type = out.setdefault(action.type, {})
            per_type[action.action.value] = per_type.get(action.action.value, 0) + 1
        return out

    def outcome_counts(self) -> dict[str, int]:
        out = {outcome.value: 0 for outcome in (Outcome.PENDING, Outcome.FAILED, Outcome.SKIPPED)}
        for action in self.actions:
            out[action.outcome.value] += 1
        return out

    def touched(self) -> list[Key]:
        """Existing objects the plan writes: what the snapshot taken before the first
        write must hold so this recovery can itself be undone."""
        created = {a.key for a in self.actions if a.action is Action.RECREATE}
        return sorted({a.key for a in self.actions if a.runnable} - created)

    def phases(self) -> list[tuple[str, tuple[PlannedAction, ...]]]:
        """Non-empty phases in order, each with its name and actions."""
        names = stages()
        grouped: dict[int, list[PlannedAction]] = {}
        for action in self.actions:
            grouped.setdefault(action.phase, []).append(action)
        return [(names[p], tuple(grouped[p])) for p in sorted(grouped)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope.to_dict(),
            "stages": list(stages()),
            "breakGlassAccounts": [a.to_dict() for a in self.break_glass],
            "summary": self.summary(),
            "outcomes": self.outcome_counts(),
            "writes": self.writes,
            "warnings": [w.to_dict() for w in self.warnings],
            "actions": [a.to_dict() for a in self.actions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecoveryPlan:
        return cls(
            actions=tuple(PlannedAction.from_dict(a) for a in data.get("actions", ())),
            scope=Scope.from_dict(data.get("scope")),
            break_glass=tuple(
                BreakGlassAccount.from_dict(a) for a in data.get("breakGlassAccounts", ())
            ),
        )


def build_plan(
    backup: Iterable[ObjectState],
    live: Iterable[ObjectState],
    *,
    scope: Scope | None = None,
    break_glass: Sequence[str] = (),
    resolver: ReferenceResolver | None = None,
    changes: Iterable[Change] | None = None,
) -> RecoveryPlan:
    """The plan taking the live tenant back to ``backup`` within ``scope``.

    ``live`` must hold every object in scope that exists (active or in deleted items),
    with its links, plus the groups Conditional Access policies use and the break-glass
    users: an object missing from it would be re-created. ``resolver`` answers for live
    objects outside ``live`` (its ``will_exist`` is not used: the plan decides what it
    brings back). ``changes``, from a difference report, limits the plan to the objects
    they name; their content is recomputed against ``live``, as a recovery must.

    Raises :class:`PlanRefused` when a written Conditional Access policy would not
    exclude a break-glass account, or an account cannot be found.
    """
    scope = scope or Scope.everything()
    only = None if changes is None else {(c.type, c.object_id) for c in changes}
    ctx = PlanContext(backup, live, scope=scope, resolver=resolver, only=only)
    found = ctx.settle()
    protected, _ = find_accounts(break_glass, ctx.users())
    builder = ActionBuilder(ctx, frozenset(a.object_id for a in protected))
    actions: list[PlannedAction] = []
    for key in sorted(found):
        actions.extend(builder.for_change(found[key]))
    if ctx.tokens:
        for key in ctx.planned_keys():
            state = ctx.live_active(key)
            if key not in found and state is not None and get_type(key[0]).references:
                repair = builder.update(state, None)
                if repair is not None:
                    actions.append(repair)
        actions = _note_out_of_scope(actions, ctx)
    planned = propagate_blocks(link_dependencies(order(actions), ctx))
    accounts = _check_break_glass(planned, ctx, break_glass) if break_glass else ()
    return RecoveryPlan(tuple(planned), scope, accounts)


def _note_out_of_scope(actions: list[PlannedAction], ctx: PlanContext) -> list[PlannedAction]:
    """Warn, on each re-creation, about objects outside the scope that keep pointing at
    the old id: the recovery does not write them."""
    notes: dict[str, list[str]] = {}
    for state in ctx.live.values():
        if state.deleted or ctx.in_scope(state.key):
            continue
        for ref in find_references(get_type(state.type), state.body):
            if ref.value in ctx.tokens:
                notes.setdefault(ref.value, []).append(f"{state.type} {state.object_id}")
    for state in ctx.backup.values():
        if ctx.in_scope(state.key) or state.deleted:
            continue
        for name, value in state.links.items():
            for target in (value,) if isinstance(value, str) else value or ():
                if target in ctx.tokens:
                    notes.setdefault(target, []).append(f"{name} of {state.type} {state.object_id}")
    if not notes:
        return actions
    out = []
    for action in actions:
        where = notes.get(action.object_id) if action.action is Action.RECREATE else None
        if where:
            reason = (
                "outside the recovery's scope, still naming the old id (not rewritten): "
                + ", ".join(sorted(set(where)))
            )
            warning = ActionWarning(action.type, action.object_id, reason)
            action = replace(action, warnings=(*action.warnings, warning))
        out.append(action)
    return out


def _check_break_glass(
    actions: Sequence[PlannedAction], ctx: PlanContext, configured: Sequence[str]
) -> tuple[BreakGlassAccount, ...]:
    runnable = [a for a in actions if a.runnable]
    writes = [
        a
        for a in runnable
        if a.type == CA_POLICY and a.action in (Action.RESTORE, Action.RECREATE, Action.UPDATE)
    ]
    membership = {a.object_id: a for a in runnable if a.type == "group" and a.link == "members"}
    outcomes: dict[str, PolicyOutcome] = {}
    for action in writes:  # in plan order: an update after a restore has the last word
        body = to_original_ids(action.after)
        outcomes[action.object_id] = PolicyOutcome(
            action.object_id, action.display_name, body, written=True
        )
    deleted = {a.object_id for a in runnable if a.action is Action.SOFT_DELETE}
    if membership:
        for state in ctx.live.values():
            if state.type == CA_POLICY and not state.deleted and state.object_id not in deleted:
                outcomes.setdefault(
                    state.object_id,
                    PolicyOutcome(state.object_id, state.display_name, state.body, written=False),
                )
    if not outcomes:
        # No policy is written or affected: an account that cannot be found is
        # reported by plans that need it, not by this one.
        found, _ = find_accounts(configured, ctx.users())
        return tuple(found)
    accounts = require_accounts(
        configured, ctx.users(), exists=lambda i: ctx.exists_live("user", i, "id")
    )

    def before(group_id: str) -> frozenset[str] | None:
        state = ctx.live.get(("group", group_id))
        if state is None or "members" not in state.links:
            restored = ctx.revived.get(("group", group_id)) is Action.RESTORE
            backup = ctx.backup.get(("group", group_id))
            if restored and backup is not None and "members" in backup.links:
                return _ids(backup.links["members"])
            return None
        return _ids(state.links["members"])

    def after(group_id: str) -> frozenset[str] | None:
        recreated = ctx.revived.get(("group", group_id)) is Action.RECREATE
        base = frozenset() if recreated else before(group_id)
        action = membership.get(group_id)
        if action is None or action.link_changes is None:
            return base
        added = {original_id(t) for t in action.link_changes.add}
        removed = {original_id(t) for t in action.link_changes.remove}
        return frozenset(((base or frozenset()) - removed) | added)

    check_policies(outcomes.values(), accounts, members_after=after, members_before=before)
    return accounts


def _ids(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, tuple | list):
        return frozenset(str(v) for v in value)
    return frozenset()
