"""A worker in its own process, for the tests that kill one with SIGKILL.

python -m tests.jobs.worker_process REDIS_URL PREFIX slow CONSUMER
    consume jobs; the "crash.slow" handler records CONSUMER in the list
    `<PREFIX>:test:runs`, then sleeps far longer than any test waits
python -m tests.jobs.worker_process REDIS_URL PREFIX pump CONSUMER
    pump due timers; records CONSUMER in `<PREFIX>:test:pumps` once running
"""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as aioredis

from app.jobs import Job, JobConfig, JobQueue, Timers


async def main(redis_url: str, prefix: str, mode: str, consumer: str) -> None:
    redis = aioredis.from_url(redis_url)
    config = JobConfig(prefix=prefix, claim_idle=0.5, poll=0.05, pump_every=0.02)
    queue = JobQueue(redis, config)
    never = asyncio.Event()

    async def slow(job: Job) -> None:
        await redis.rpush(f"{prefix}:test:runs", consumer)
        await asyncio.sleep(3600)

    if mode == "slow":
        await queue.run({"crash.slow": slow}, consumer=consumer, stop=never)
    else:
        timers = Timers(queue)
        await redis.rpush(f"{prefix}:test:pumps", consumer)
        await timers.run(never)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
