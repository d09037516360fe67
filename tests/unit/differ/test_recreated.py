"""Re-created objects move, in the backup's stream of items, from their old id to their
new one: the stream stays in id order, resumes after any id, and closes what it reads."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from hypothesis import given
from hypothesis import strategies as st

from rewind_common.domain.records import ObjectState
from rewind_differ.recreated import Recreated, with_renamed
from rewind_differ.sides import Item

GROUP_OLD = "1" * 8 + "-0000-4000-8000-000000000000"
GROUP_NEW = "e" * 8 + "-0000-4000-8000-000000000000"
POLICY = "5" * 8 + "-0000-4000-8000-000000000000"


def item(object_id: str) -> Item:
    return Item(object_id, ("v-" + object_id, False, ()))


class Source:
    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        self.closed = False

    async def items(self) -> AsyncGenerator[Item, None]:
        try:
            for object_id in self.ids:
                yield item(object_id)
        finally:
            self.closed = True


async def collected(ids: list[str], renamed: dict[str, str], after: str | None) -> list[str]:
    moved = {old: Item(new, ("v-" + old, False, ())) for old, new in renamed.items()}
    stream = with_renamed(Source(ids).items(), moved, after=after)
    return [found.object_id async for found in stream]


async def test_a_recreated_object_takes_its_new_place_in_id_order() -> None:
    ids = ["a1", "b2", "c3", "d4"]
    assert await collected(ids, {"c3": "b5"}, None) == ["a1", "b2", "b5", "d4"]
    assert await collected(ids, {"c3": "z9"}, None) == ["a1", "b2", "d4", "z9"]
    assert await collected(ids, {"c3": "00"}, None) == ["00", "a1", "b2", "d4"]


@given(
    ids=st.lists(st.text("0123456789abcdef", min_size=3, max_size=3), unique=True),
    moves=st.integers(0, 5),
    after=st.none() | st.text("0123456789abcdef", min_size=1, max_size=3),
)
async def test_the_stream_is_the_backup_renamed_and_sorted(
    ids: list[str], moves: int, after: str | None
) -> None:
    ordered = sorted(ids)
    olds = ordered[:moves]
    renamed = {old: "n" + old for old in olds}  # new ids the backup does not hold
    expected = sorted(renamed.get(i, i) for i in ordered)
    resumed = [i for i in ordered if after is None or i > after]

    found = await collected(resumed, renamed, after)

    assert found == [i for i in expected if after is None or i > after]


async def test_stopping_early_closes_the_backup_stream() -> None:
    source = Source(["a", "b", "c"])
    stream = with_renamed(source.items(), {"b": item("bb")}, after=None)
    assert (await anext(stream)).object_id == "a"
    await stream.aclose()
    assert source.closed


def test_a_backed_up_state_is_read_under_new_ids() -> None:
    recreated = Recreated({GROUP_OLD: GROUP_NEW})
    group = ObjectState("group", GROUP_OLD, {"id": GROUP_OLD, "displayName": "Readers"})
    policy = ObjectState(
        "conditionalAccessPolicy",
        POLICY,
        {"id": POLICY, "conditions": {"users": {"excludeGroups": [GROUP_OLD]}}},
    )

    renamed_group = recreated.backup_state(group)
    renamed_policy = recreated.backup_state(policy)

    assert renamed_group.object_id == GROUP_NEW
    assert renamed_policy.object_id == POLICY
    assert renamed_policy.body["conditions"]["users"]["excludeGroups"] == [GROUP_NEW]
    assert Recreated().backup_state(policy) is policy
