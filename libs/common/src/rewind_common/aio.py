"""Stopping helper tasks without losing the caller's own cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def stop_task(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait for it to end, whatever it ends with.

    The task's own ``CancelledError`` (or failure) is swallowed; a cancellation of the
    *caller* that arrives meanwhile is not, even when the task absorbed it (awaiting a
    task hands a cancel on to it). Losing it would leave the caller running on after
    whoever canceled it has stopped waiting for it: a producer then blocks forever on a
    queue nobody reads."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    current = asyncio.current_task()
    if current is not None and current.cancelling():
        raise asyncio.CancelledError
