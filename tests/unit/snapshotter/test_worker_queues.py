"""Which queues a snapshotter worker may consume: snapshots, retention, or both, and
never a queue whose tasks it would drop as unregistered."""

from __future__ import annotations

import pytest
from celery import Celery

from rewind_common.jobs.worker import served_queues, worker_queues
from rewind_common.settings import Settings
from rewind_common.tasks import TASK_QUEUES, Queue, TaskName
from rewind_snapshotter.worker import create_app


@pytest.fixture(scope="module")
def app() -> Celery:
    return create_app(Settings())


def test_retention_jobs_have_a_queue_of_their_own() -> None:
    assert TASK_QUEUES[TaskName.RETENTION] is Queue.RETENTION
    assert [name for name, queue in TASK_QUEUES.items() if queue is Queue.RETENTION] == [
        TaskName.RETENTION
    ]


def test_the_snapshotter_serves_the_snapshots_and_retention_queues(app: Celery) -> None:
    assert served_queues(app) == {Queue.SNAPSHOTS, Queue.RETENTION}


@pytest.mark.parametrize(
    ("requested", "queues"),
    [
        ("snapshots", [Queue.SNAPSHOTS]),
        ("retention", [Queue.RETENTION]),
        ("snapshots,retention", [Queue.SNAPSHOTS, Queue.RETENTION]),
        (" retention , snapshots,retention", [Queue.RETENTION, Queue.SNAPSHOTS]),
    ],
)
def test_queues_are_chosen_among_those_served(
    app: Celery, requested: str, queues: list[Queue]
) -> None:
    assert worker_queues(app, requested) == queues


@pytest.mark.parametrize("requested", ["", ",", "diffs", "snapshots,job-status", "nothing"])
def test_a_queue_the_app_does_not_serve_is_refused(app: Celery, requested: str) -> None:
    with pytest.raises(ValueError, match="--queues must name one or more of retention, snapshots"):
        worker_queues(app, requested)
