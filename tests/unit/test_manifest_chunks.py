"""Finding rows in a stored manifest chunk without decoding all of it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rewind_common.storage.chunks import LoadedChunk
from rewind_common.storage.manifest import ManifestEntry, chunk_document


def _chunk(names: list[str | None]) -> tuple[LoadedChunk, list[list[object]]]:
    entries = [
        ManifestEntry(
            type="user",
            object_id=f"u{index:03d}",
            version="v" * 64,
            display_name=name,
            links={"manager": "u000"} if index % 2 else {},
        )
        for index, name in enumerate(names)
    ]
    rows = [entry.to_row() for entry in entries]
    document = chunk_document("s1", "user", rows, [entry.leaf_digest() for entry in entries])
    document["e"] = bytes(document["e"])  # as the driver returns it
    return LoadedChunk("user", document), rows


def test_rows_are_found_whatever_their_display_names_hold() -> None:
    tricky = ["Ada", 'x],["u002",', '["u001",', "ends with ],[", None, "]]", "é ☃"]
    loaded, rows = _chunk(tricky)
    for row in rows:
        assert loaded.find({str(row[0])}) == [row]
    wanted = {"u001", "u003", "u006", "u999"}
    assert sorted(loaded.find(wanted), key=str) == [r for r in rows if r[0] in wanted]


@given(st.lists(st.one_of(st.none(), st.text()), min_size=1, max_size=12), st.data())
def test_finding_agrees_with_decoding_the_chunk(
    names: list[str | None], data: st.DataObject
) -> None:
    loaded, rows = _chunk(names)
    ids = [str(row[0]) for row in rows]
    wanted = set(data.draw(st.lists(st.sampled_from([*ids, "u999"]), max_size=5)))
    found = sorted(loaded.find(wanted), key=lambda row: str(row[0]))
    assert found == [row for row in rows if row[0] in wanted]
