"""CLI pieces that need no server: event parsing, exit codes, token lookup, rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from rewind_api.cli.client import StreamEvent, _parse_events
from rewind_api.cli.context import resolve_token
from rewind_api.cli.follow import exit_code_for
from rewind_api.cli.render import human_bytes, snapshot_detail


def test_server_sent_events_are_parsed_and_comments_skipped() -> None:
    lines = [
        ": ping",
        "",
        "event: status",
        'data: {"status": "Queued",',
        'data: "seq": 0}',
        "id: 0",
        "retry: 2000",
        "",
        "data: 1",
        "",
    ]
    assert list(_parse_events(iter(lines))) == [
        StreamEvent("status", {"status": "Queued", "seq": 0}, "0"),
        StreamEvent("message", 1, None),
    ]


@pytest.mark.parametrize(
    ("status", "code"),
    [("Completed", 0), ("Completed with warnings", 0), ("Failed", 3), ("Canceled", 4)],
)
def test_exit_codes_tell_how_the_job_ended(status: str, code: int) -> None:
    assert exit_code_for({"status": status}) == code


def test_the_token_comes_from_the_option_then_the_named_file_then_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REWIND_TOKEN_FILE", raising=False)
    assert resolve_token(None) is None
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "admin-token").write_text("rwd_default\n")
    assert resolve_token(None) == "rwd_default"
    named = tmp_path / "mine"
    named.write_text("rwd_named\n")
    monkeypatch.setenv("REWIND_TOKEN_FILE", str(named))
    assert resolve_token(None) == "rwd_named"
    assert resolve_token(" rwd_explicit ") == "rwd_explicit"


def test_sizes_read_well() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(2048) == "2.0 KiB"
    assert human_bytes(5 * 1024**3) == "5.0 GiB"


def test_a_snapshot_shows_what_it_could_not_read_as_not_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    snapshot_detail(
        {
            "id": "s1",
            "status": "Completed with warnings",
            "counts": {"user": 40, "conditionalAccessPolicy": 3},
            "deletedCounts": {"user": 2},
            "unreadTypes": ["application"],
            "unreadDeletedItems": ["conditionalAccessPolicy"],
        }
    )
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[1:]}

    assert rows["user"] == ["40", "2"]
    assert rows["conditionalAccessPolicy"] == ["3", "not", "read"]
    assert rows["application"] == ["not", "read", "not", "read"]
