"""What the API trusts without asking MongoDB again, and for how long."""

from __future__ import annotations

from rewind_common.storage.memo import ExpiringMemo


def test_a_value_is_kept_for_its_seconds_then_read_again() -> None:
    now = [0.0]
    memo: ExpiringMemo[str, int] = ExpiringMemo(5, clock=lambda: now[0])
    memo.put("a", 1)
    now[0] = 4.9
    assert memo.get("a") == 1
    now[0] = 5.0
    assert memo.get("a") is None


def test_zero_seconds_keeps_nothing() -> None:
    memo: ExpiringMemo[str, int] = ExpiringMemo(0)
    memo.put("a", 1)
    assert memo.get("a") is None


def test_forgetting_one_key_or_everything() -> None:
    memo: ExpiringMemo[str, int] = ExpiringMemo(60)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.forget("a")
    assert (memo.get("a"), memo.get("b")) == (None, 2)
    memo.forget()
    assert memo.get("b") is None


def test_a_full_memo_starts_afresh_instead_of_growing() -> None:
    memo: ExpiringMemo[int, int] = ExpiringMemo(60, limit=3)
    for key in range(3):
        memo.put(key, key)
    memo.put(3, 3)
    assert [memo.get(key) for key in range(4)] == [None, None, None, 3]
