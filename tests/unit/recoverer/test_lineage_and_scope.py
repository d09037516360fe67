"""A backup read in the tenant's current ids, and the scope a source allows."""

from __future__ import annotations

from rewind_common.domain.lineage import backup_ids, in_current_ids, widen_scope
from rewind_common.domain.records import ObjectState
from rewind_common.domain.scope import Scope
from rewind_common.storage.manifest import Segment
from rewind_common.storage.recoveries import follow
from rewind_recoverer.source import Source, effective_scope

OLD = "9e6397d4-b962-45d3-88bf-cbcf26433798"
NEW = "11111111-2222-4333-8444-555555555555"
NEWER = "22222222-2222-4333-8444-555555555555"
POLICY = "bd37929d-4ac7-4cc3-8c0c-668201ba985a"
PARENT = "b3783a7c-bbdd-4b9b-ade2-fb1fa098d691"


def test_chains_of_re_creations_lead_to_the_newest_id() -> None:
    assert follow({OLD: NEW, NEW: NEWER}) == {OLD: NEWER, NEW: NEWER}
    assert follow({OLD: NEW, NEW: OLD}) == {OLD: OLD, NEW: NEW}  # a cycle stops


def test_a_backup_is_renamed_and_its_references_and_links_rewritten() -> None:
    group = ObjectState("group", OLD, {"id": OLD, "displayName": "G"})
    parent = ObjectState("group", PARENT, {"id": PARENT}, links={"members": (OLD,)})
    users = {"excludeGroups": [OLD], "includeUsers": ["All"]}
    policy = ObjectState("conditionalAccessPolicy", POLICY, {"conditions": {"users": users}})

    renamed = {s.object_id: s for s in in_current_ids([group, parent, policy], {OLD: NEW})}

    assert renamed[NEW].body["id"] == NEW
    assert renamed[PARENT].links["members"] == (NEW,)
    assert renamed[POLICY].body["conditions"]["users"]["excludeGroups"] == [NEW]
    # a backup that already knows the new id is left as it is
    both = [group, ObjectState("group", NEW, {"id": NEW})]
    assert {s.object_id for s in in_current_ids(both, {OLD: NEW})} == {OLD, NEW}


def test_scopes_name_both_ids_and_backups_are_read_by_both() -> None:
    scope = Scope.from_dict({"objects": [{"type": "group", "ids": [NEW]}]})

    widened = widen_scope(scope, {OLD: NEW})

    assert widened.objects["group"] == frozenset({OLD, NEW})
    assert backup_ids([NEW], {OLD: NEW}) == sorted({OLD, NEW})


def test_a_partial_source_limits_the_scope_and_unread_types_are_left_out() -> None:
    limit = Scope.from_dict({"objects": [{"type": "group", "ids": [OLD, PARENT]}]})
    partial = Source("pre", [Segment("pre", frozenset())], limit=limit, partial=True)
    unread = Source("s", [Segment("s", frozenset())], unread_types=("user",))

    assert effective_scope(Scope.everything(), partial).objects == limit.objects
    only_one = Scope.from_dict({"objects": [{"type": "group", "ids": [OLD]}]})
    assert effective_scope(only_one, partial).objects["group"] == frozenset({OLD})
    assert "user" not in effective_scope(Scope.everything(), unread).types
    assert "group" in effective_scope(Scope.everything(), unread).types
