"""Everything the worker process runs for jobs: the consumer (with retries and take-overs),
the timer pump and the periodic jobs, together until `stop` is set."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Mapping, Sequence

import redis.asyncio as aioredis

from app.jobs.config import JobConfig
from app.jobs.model import Handler
from app.jobs.periodic import Periodic, run_all_periodic
from app.jobs.queue import JobQueue
from app.jobs.timers import Timers


def consumer_name() -> str:
    """A name unique to this process, as the consumer group needs."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def run_jobs(
    redis: aioredis.Redis,
    handlers: Mapping[str, Handler],
    *,
    consumer: str,
    stop: asyncio.Event,
    periodic: Sequence[Periodic] = (),
    config: JobConfig | None = None,
) -> None:
    """Run jobs, timers and periodic jobs until `stop` is set. Running handlers get
    `config.drain` seconds to finish; any still running then is cancelled and left pending
    for another worker to take over."""
    queue = JobQueue(redis, config)
    timers = Timers(queue)
    async with asyncio.TaskGroup() as group:
        group.create_task(queue.run(handlers, consumer=consumer, stop=stop))
        group.create_task(timers.run(stop))
        group.create_task(run_all_periodic(queue, periodic, stop))
