"""Jobs enqueued every N seconds, once per period however many workers run.

Periods are slots of wall-clock time (`floor(now / every)`); at the start of each slot every
worker tries to enqueue, and a SET NX PX guard named after the slot lets one through. Workers
on different hosts therefore need clocks that agree to well within a period.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from app.jobs.queue import JobQueue
from app.jobs.waits import pause, reraise_if_cancelled

log = logging.getLogger("tandem.jobs")


@dataclass(frozen=True)
class Periodic:
    kind: str
    every: float  # seconds
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.every <= 0:
            raise ValueError("a periodic job needs a positive period")


async def enqueue_for_period(queue: JobQueue, periodic: Periodic, now: float) -> str | None:
    """Enqueue `periodic` for the slot `now` falls in, unless a worker already did."""
    slot = math.floor(now / periodic.every)
    return await queue.enqueue_guarded(
        periodic.kind,
        periodic.payload,
        guard=f"every:{periodic.kind}:{periodic.every:g}:{slot}",
        ttl=max(2 * periodic.every, 1.0),
    )


async def run_periodic(queue: JobQueue, periodic: Periodic, stop: asyncio.Event) -> None:
    """Enqueue `periodic` at the start of every period until `stop` is set."""
    while True:
        reraise_if_cancelled()
        boundary = (math.floor(time.time() / periodic.every) + 1) * periodic.every
        # The loop's timer may fire a little early in wall-clock terms: sleep until past it.
        while (delay := boundary - time.time()) > 0:
            if await pause(stop, delay):
                return
        try:
            await enqueue_for_period(queue, periodic, time.time())
        except (RedisError, OSError):
            reraise_if_cancelled()
            log.warning("enqueueing periodic %s failed", periodic.kind, exc_info=True)


async def run_all_periodic(
    queue: JobQueue, periodics: Sequence[Periodic], stop: asyncio.Event
) -> None:
    async with asyncio.TaskGroup() as group:
        for periodic in periodics:
            group.create_task(run_periodic(queue, periodic, stop))
