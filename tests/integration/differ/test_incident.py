"""A full report after a scripted incident lists exactly the incident's changes."""

from __future__ import annotations

from typing import Any

from rewind_common.jobs.model import JobStatus
from tests.integration.differ.incident import ROGUE_REDIRECT, USER_EDIT, play, prepare
from tests.integration.differ.support import DiffHarness


async def test_a_full_report_lists_exactly_the_incident(differ: DiffHarness) -> None:
    emulator = differ.emulator
    await emulator.generate()

    async def graph(method: str, path: str, body: Any) -> Any:
        return await emulator.graph_call(method, path, body)

    incident = await prepare(graph, await emulator.state())
    snapshot = await differ.snapshot()
    await play(graph, await emulator.state(), incident)

    report = await differ.diff(snapshot.id)

    assert report.job.status is JobStatus.COMPLETED, report.job.error
    got = {(c.type, c.object_id, c.change.value, c.action.value) for c in report.changes}
    assert got == incident.expected
    changes = report.by_key()
    for key, paths in incident.paths.items():
        assert list(changes[key].paths) == paths, (key, changes[key].to_dict())
    user = changes[("user", incident.users[0])]
    assert user.property_at("jobTitle").current == USER_EDIT["jobTitle"]
    policy = changes[("conditionalAccessPolicy", incident.policy)]
    excluded = policy.property_at("conditions.users.excludeGroups")
    assert (excluded.backup, excluded.current) == ([incident.excluded_group], [])
    assert excluded.recoverable
    app = changes[("application", incident.application)].property_at("web.redirectUris")
    assert app.current == [ROGUE_REDIRECT]
    trimmed = changes[("group", incident.trimmed_group)].links["members"]
    assert trimmed.removed == tuple(incident.removed_members)
    assert trimmed.added == ()
    assert all(c.recoverable for c in report.changes), [
        c.to_dict() for c in report.changes if not c.recoverable
    ]
    assert report.record is not None
    assert report.record.complete
    summary = report.record.summary
    assert summary["group"] == {"softDeleted": 1, "hardDeleted": 1, "linksChanged": 1}
    assert summary["user"] == {"updated": 3}
    assert report.job.counters["changes"] == len(incident.expected)
