"""Timers: a job to enqueue at a due time, named by a key (snooze wake-ups, SLA clocks).

Due times live in a Redis sorted set, so timers survive worker restarts; the pump (one Lua
script, app/jobs/due.py) moves due timers into the job stream and removes them in one step,
so with any number of workers pumping, each firing is enqueued once. Scheduling a key again
replaces its due time and job. A firing is enqueued with the idempotency key
`<timer key>@<due ms>`: a rescheduled timer is a new job, and the same key and due time
scheduled again after it fired does not fire twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError

from app.jobs.due import DueSet
from app.jobs.model import Job, encode_job, from_ms, to_ms, utcnow
from app.jobs.queue import JobQueue
from app.jobs.waits import pause, reraise_if_cancelled

log = logging.getLogger("tandem.jobs")


class Timers:
    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue
        self.redis = queue.redis
        self.due_set = DueSet(
            queue.redis, queue.keys, queue.keys.timers, marker_ttl_ms=queue.marker_ttl_ms
        )

    async def schedule(
        self, kind: str, payload: dict[str, Any], due: datetime, *, key: str
    ) -> None:
        """Enqueue job `kind` with `payload` at `due` (time-zone aware); replaces any timer
        with the same key."""
        due_ms = to_ms(due)
        firing = f"{key}@{due_ms}"
        job = Job(
            id=uuid.uuid4().hex, kind=kind, payload=payload, key=firing, enqueued_at=from_ms(due_ms)
        )
        async with self.redis.pipeline(transaction=True) as pipe:
            self.due_set.put(pipe, key, encode_job(job), due_ms, mark=firing)
            await pipe.execute()

    async def cancel(self, key: str) -> bool:
        """Forget the timer; False when it had already fired or never existed."""
        async with self.redis.pipeline(transaction=True) as pipe:
            self.due_set.remove(pipe, key)
            removed, _, _ = await pipe.execute()
        return bool(removed)

    async def due(self, key: str) -> datetime | None:
        due_ms = await self.due_set.due_ms(key)
        return None if due_ms is None else from_ms(due_ms)

    async def pump(self, now: datetime | None = None) -> int:
        """Enqueue every timer due at `now` (default: the current time); answer how many
        left the schedule."""
        return await self.due_set.move_due(to_ms(now or utcnow()))

    async def run(self, stop: asyncio.Event) -> None:
        """Pump every `pump_every` seconds until `stop` is set."""
        while True:
            reraise_if_cancelled()
            try:
                await self.pump()
            except (RedisError, OSError):
                reraise_if_cancelled()
                log.warning("moving due timers failed; retrying", exc_info=True)
            if await pause(stop, self.queue.config.pump_every):
                return
