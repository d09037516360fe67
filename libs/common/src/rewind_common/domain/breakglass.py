"""Break-glass accounts stay excluded from every Conditional Access policy a recovery writes.

The rule, per policy as the recovery leaves it:

- Every policy counts, whatever its ``state``: a ``disabled`` or report-only
  (``enabledForReportingButNotEnforced``) policy is one switch away from being enforced,
  and emergency access accounts belong outside all of them (Microsoft's guidance on
  emergency access accounts). A recovery must not be the reason one is not.
- A policy *could include* an account when ``includeUsers`` holds ``All`` or the account,
  when it targets guests and the account is not known to be a member user, when it
  targets any directory role (role assignments are not backed up, and break-glass
  accounts are Global Administrators), or when an included group contains the account
  (transitively) or its membership is unknown.
- An account *is excluded* when ``excludeUsers`` holds it or an excluded group contains it
  (transitively, through groups whose membership is known). Excluded roles do not count:
  role assignments are not backed up, so the planner cannot know they cover the account.

A policy the recovery writes (update, re-create, restore) must pass. A live policy it
does not write must not start failing because the recovery changes the
membership of a group it excludes. Otherwise the plan is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rewind_common.domain.records import ObjectState
from rewind_common.domain.scope import canonical_id
from rewind_common.errors import PlanRefused
from rewind_common.registry import get_type

#: Direct members of a group, or ``None`` when the id is not a group whose members are known.
MembersOf = Callable[[str], frozenset[str] | None]


@dataclass(frozen=True)
class BreakGlassAccount:
    """A configured break-glass account resolved to its user object."""

    configured: str
    object_id: str
    user_principal_name: str | None = None
    user_type: str | None = None

    @property
    def label(self) -> str:
        upn = self.user_principal_name
        return f"{upn} ({self.object_id})" if upn else self.object_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "configured": self.configured,
            "objectId": self.object_id,
            "userPrincipalName": self.user_principal_name,
            "userType": self.user_type,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BreakGlassAccount:
        return cls(
            configured=data["configured"],
            object_id=data["objectId"],
            user_principal_name=data.get("userPrincipalName"),
            user_type=data.get("userType"),
        )


def find_accounts(
    configured: Sequence[str],
    users: Iterable[ObjectState],
    *,
    exists: Callable[[str], bool] | None = None,
) -> tuple[list[BreakGlassAccount], list[str]]:
    """Resolve configured accounts (object ids or user principal names) against user
    states (live first, then the backup): ``(found, unknown)``. ``exists`` may confirm an
    object id the states do not hold."""
    by_id: dict[str, ObjectState] = {}
    by_upn: dict[str, ObjectState] = {}
    for user in users:
        by_id.setdefault(user.object_id.lower(), user)
        upn = user.body.get("userPrincipalName")
        if isinstance(upn, str):
            by_upn.setdefault(upn.casefold(), user)
    found: list[BreakGlassAccount] = []
    unknown: list[str] = []
    user_type = get_type("user")
    for entry in configured:
        as_id = canonical_id(user_type, entry.strip())
        state = by_id.get(as_id) if as_id else by_upn.get(entry.strip().casefold())
        if state is not None:
            upn, kind = state.body.get("userPrincipalName"), state.body.get("userType")
            found.append(
                BreakGlassAccount(
                    configured=entry,
                    object_id=state.object_id,
                    user_principal_name=upn if isinstance(upn, str) else None,
                    user_type=kind if isinstance(kind, str) else None,
                )
            )
        elif as_id is not None and exists is not None and exists(as_id):
            found.append(BreakGlassAccount(configured=entry, object_id=as_id))
        else:
            unknown.append(entry)
    return found, unknown


def require_accounts(
    configured: Sequence[str],
    users: Iterable[ObjectState],
    *,
    exists: Callable[[str], bool] | None = None,
) -> tuple[BreakGlassAccount, ...]:
    """Like :func:`find_accounts`, refusing the plan when an account cannot be found: a
    safety rule that cannot be checked must not be assumed to hold."""
    found, unknown = find_accounts(configured, users, exists=exists)
    if unknown:
        names = ", ".join(repr(u) for u in unknown)
        raise PlanRefused(
            f"break-glass account {names} is configured for this tenant but is neither a user "
            "in the tenant nor in the backup, so the recovery cannot check that Conditional "
            "Access policies keep excluding it; correct the tenant's breakGlassAccounts setting",
            details={"unknownBreakGlassAccounts": unknown},
        )
    return tuple(found)


def transitive_members(group_id: str, members_of: MembersOf) -> frozenset[str] | None:
    """Everyone in a group through nested groups whose members are known; ``None`` when the
    group's own membership is unknown."""
    direct = members_of(group_id)
    if direct is None:
        return None
    seen = {group_id}
    out: set[str] = set()
    pending = list(direct)
    while pending:
        member = pending.pop()
        if member in out:
            continue
        out.add(member)
        nested = members_of(member) if member not in seen else None
        if nested is not None:
            seen.add(member)
            pending.extend(nested)
    return frozenset(out)


def _folded(values: Any) -> set[str]:
    return {str(v).casefold() for v in values or []}


def could_include(
    users: Mapping[str, Any], account: BreakGlassAccount, members_of: MembersOf
) -> bool:
    include = _folded(users.get("includeUsers"))
    if "all" in include or account.object_id.casefold() in include:
        return True
    targets_guests = "guestsorexternalusers" in include or users.get("includeGuestsOrExternalUsers")
    if targets_guests and account.user_type != "Member":
        return True
    if users.get("includeRoles"):
        return True
    for group in users.get("includeGroups") or []:
        members = transitive_members(str(group), members_of)
        if members is None or account.object_id in members:
            return True
    return False


def is_excluded(
    users: Mapping[str, Any], account: BreakGlassAccount, members_of: MembersOf
) -> bool:
    if account.object_id.casefold() in _folded(users.get("excludeUsers")):
        return True
    for group in users.get("excludeGroups") or []:
        members = transitive_members(str(group), members_of)
        if members is not None and account.object_id in members:
            return True
    return False


def violations(
    policy: Mapping[str, Any], accounts: Iterable[BreakGlassAccount], members_of: MembersOf
) -> list[BreakGlassAccount]:
    """The accounts a policy could apply to without excluding them."""
    conditions = policy.get("conditions")
    users = conditions.get("users") if isinstance(conditions, Mapping) else None
    if not isinstance(users, Mapping):
        return []
    return [
        account
        for account in accounts
        if could_include(users, account, members_of) and not is_excluded(users, account, members_of)
    ]


@dataclass(frozen=True)
class PolicyOutcome:
    """A Conditional Access policy as a recovery leaves it (ids as the backup names them)."""

    policy_id: str
    display_name: str | None
    body: Mapping[str, Any]
    #: Written by the recovery; otherwise a live policy whose excluded groups may change.
    written: bool


def check_policies(
    policies: Iterable[PolicyOutcome],
    accounts: Sequence[BreakGlassAccount],
    *,
    members_after: MembersOf,
    members_before: MembersOf,
) -> None:
    """Raise :class:`PlanRefused` naming every policy and account the plan would expose."""
    problems: list[tuple[PolicyOutcome, BreakGlassAccount]] = []
    for policy in policies:
        exposed = violations(policy.body, accounts, members_after)
        if not policy.written:
            already = {a.object_id for a in violations(policy.body, accounts, members_before)}
            exposed = [a for a in exposed if a.object_id not in already]
        problems.extend((policy, account) for account in exposed)
    if not problems:
        return
    lines = [
        f"Conditional Access policy {p.display_name!r} ({p.policy_id}) would "
        f"{'be written' if p.written else 'be left'} ({p.body.get('state', 'state unknown')}) "
        f"without excluding break-glass account {a.label}"
        for p, a in problems
    ]
    raise PlanRefused(
        "recovery plan refused: "
        + "; ".join(lines)
        + ". Exclude the account (or a group holding it) in the policy, or leave the "
        "policy or group out of the recovery's scope.",
        details={
            "breakGlassViolations": [
                {"policyId": p.policy_id, "displayName": p.display_name, "account": a.object_id}
                for p, a in problems
            ]
        },
    )
