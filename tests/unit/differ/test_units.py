"""Pure parts of the differ: planning, shape alignment, the merge-join, references."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from rewind_common.domain.diff import diff_object
from rewind_common.domain.records import ObjectState
from rewind_common.domain.scope import Scope
from rewind_common.domain.shapes import aligned
from rewind_common.storage.manifest import Segment
from rewind_common.storage.snapshots import SnapshotRecord
from rewind_differ.plan import partial_types, plan_report
from rewind_differ.resolver import Answers, RecordingResolver, _item_url
from rewind_differ.sides import Item, merged

USER = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"


def _record(
    snapshot_id: str, counts: dict[str, int], unread_deleted_items: tuple[str, ...] = ()
) -> SnapshotRecord:
    now = datetime.now(UTC)
    return SnapshotRecord(
        id=snapshot_id, tenant_id="t", job_id="j", mode="full", status="Completed",
        created_at=now, completed_at=now, chain=[Segment(snapshot_id, frozenset())],
        counts=counts, deleted_counts={}, link_counts={}, entry_count=sum(counts.values()),
        new_versions=0, stored_bytes=0, manifest_root="m", merkle_root="r", previous_root=None,
        previous_snapshot_id=None, unread_deleted_items=list(unread_deleted_items),
    )  # fmt: skip


def test_the_plan_follows_the_scope_and_skips_types_the_backup_lacks() -> None:
    backup = _record("s1", {"user": 40, "group": 6})
    scope = Scope.from_dict(
        {"types": ["group", "application"], "objects": [{"type": "user", "ids": [USER]}]}
    )
    state = plan_report("r1", scope, backup)

    assert [(t.name, t.ids, t.skipped is not None) for t in state.tasks] == [
        ("user", [USER], False),
        ("group", None, False),
        ("application", None, True),
    ]
    assert state.expected == 1 + 6
    assert state.phase == "load"
    between = plan_report("r2", Scope.everything(), backup, _record("s2", {"user": 1}))
    assert between.phase == "compare"
    assert all(t.loaded for t in between.tasks)
    assert [t.name for t in between.tasks if not t.skipped] == ["user"]


def test_a_snapshot_without_the_deleted_objects_of_a_type_is_named_in_scope_only() -> None:
    backup = _record("s1", {"user": 4, "group": 2}, unread_deleted_items=("group",))
    later = _record("s2", {"user": 4, "group": 2}, unread_deleted_items=("user",))

    assert partial_types(Scope.from_dict({"types": ["user"]}), backup) == []
    caveats = partial_types(Scope.everything(), backup, later)
    assert [(name, reason.split(" holds")[0]) for name, reason in caveats] == [
        ("user", "snapshot s2"),
        ("group", "snapshot s1"),
    ]
    assert "recycle bin" in caveats[0][1]


def test_large_types_get_finer_buckets_by_how_their_ids_spread() -> None:
    backup = _record("s1", {"user": 30_000, "appRoleAssignment": 30_000, "group": 900})
    widths = {t.name: t.bucket_width for t in plan_report("r1", Scope.everything(), backup).tasks}
    # base64url ids already spread over 64 first characters, GUIDs over 16
    assert (widths["user"], widths["appRoleAssignment"], widths["group"]) == (2, 1, 1)


def _user(body: dict[str, object]) -> ObjectState:
    return ObjectState("user", USER, {"id": USER, "displayName": "Adele", **body})


def test_a_default_value_missing_on_one_side_is_not_drift() -> None:
    backup, current = aligned(_user({}), _user({"accountEnabled": False, "jobTitle": None}))
    assert diff_object(backup, current) is None


def test_a_set_value_missing_on_one_side_is_drift() -> None:
    backup, current = aligned(_user({"showInAddressList": True}), _user({}))
    change = diff_object(backup, current)
    assert change is not None
    assert change.paths == ("showInAddressList",)
    same = aligned(_user({"accountEnabled": False}), _user({"accountEnabled": True}))
    assert diff_object(*same) is not None


async def _stream(ids: list[str]) -> AsyncIterator[Item]:
    for object_id in ids:
        yield Item(object_id, (object_id, False, ()))


@given(
    st.sets(st.text("abcdef0123", min_size=1, max_size=4)),
    st.sets(st.text("abcdef0123", min_size=1, max_size=4)),
)
def test_the_merge_join_yields_every_id_once_in_order(left: set[str], right: set[str]) -> None:
    import asyncio

    async def run() -> list[tuple[str, bool, bool]]:
        pairs = merged(_stream(sorted(left)), _stream(sorted(right)))
        return [(i, b is not None, c is not None) async for i, b, c in pairs]

    got = asyncio.run(run())
    assert [i for i, _, _ in got] == sorted(left | right)
    assert all((i in left, i in right) == (b, c) for i, b, c in got)


def test_the_recorder_asks_everything_and_answers_replay() -> None:
    recorder = RecordingResolver()
    assert not recorder.exists_live("group", "g1", "id")
    assert not recorder.will_exist("group", "g1", "id")
    assert recorder.live == {("group", "id", "g1")}
    answers = Answers(frozenset(recorder.live), frozenset())
    assert answers.exists_live("group", "g1", "id")
    assert not answers.will_exist("group", "g1", "id")
    assert not answers.exists_live("group", "g2", "id")


def test_existence_reads_by_id_or_alternate_key() -> None:
    assert _item_url("group", "id", "g1") == "/groups/g1?$select=id"
    assert (
        _item_url("servicePrincipal", "appId", "o'k")
        == "/servicePrincipals(appId='o''k')?$select=id"
    )
    assert _item_url("authorizationPolicy", "id", "authorizationPolicy") is None
