"""Celery settings shared by every worker and by the API's producer.

Reliability choices (a worker killed with SIGKILL mid-job loses nothing):
- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged only
  after its task returns, and requeued if the worker process dies;
- ``worker_prefetch_multiplier = 1``: a worker holds one unacknowledged message at a
  time, so a killed worker strands at most one;
- long jobs run as a chain of short steps (see ``rewind_common.jobs.runner``), each far
  shorter than the Redis ``visibility_timeout``, after which an unacknowledged message
  is delivered again. A step checkpoints its progress, so a redelivered step resumes.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Queue as KombuQueue

from rewind_common.settings import Settings
from rewind_common.tasks import TASK_QUEUES, Queue


def celery_config(settings: Settings, *, visibility_timeout: int | None = None) -> dict[str, Any]:
    redis_url = settings.redis_url.get_secret_value()
    timeout = visibility_timeout or settings.celery_visibility_timeout_seconds
    return {
        "broker_url": redis_url,
        "result_backend": None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "broker_transport_options": {
            "visibility_timeout": timeout,
            # Kombu looks for messages a killed worker left unacknowledged only every
            # interval × throttle seconds (100 by default) whatever the visibility
            # timeout: look every fifth of the timeout, so a killed worker's job resumes
            # soon after it.
            "unacked_restore_interval": max(1, min(10, timeout // 5)),
            "unacked_restore_throttle": 1,
            # Deliver the status queue and job queues fairly, without starving any.
            "queue_order_strategy": "round_robin",
        },
        "task_queues": [KombuQueue(queue.value, routing_key=queue.value) for queue in Queue],
        "task_routes": {name.value: {"queue": queue.value} for name, queue in TASK_QUEUES.items()},
        "task_default_queue": Queue.SNAPSHOTS.value,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
    }


def create_celery(name: str, settings: Settings, **overrides: Any) -> Celery:
    app = Celery(name)
    app.conf.update(celery_config(settings))
    app.conf.update(overrides)
    return app
