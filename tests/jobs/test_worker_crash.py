"""A worker process killed with SIGKILL in the middle of a job: another worker takes the job
over and finishes it, once."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis

from app.jobs import Job, JobQueue
from app.jobs.keys import GROUP
from tests.jobs.helpers import (
    consuming,
    drained,
    eventually,
    fast_config,
    kill,
    stream_bodies,
    worker_process,
)


async def test_a_job_whose_worker_is_killed_is_finished_once_by_another_worker(
    redis_client: aioredis.Redis, redis_url: str, tmp_path: Path
) -> None:
    config = fast_config()
    queue = JobQueue(redis_client, config)
    stream = queue.keys.stream
    runs_key = f"{config.prefix}:test:runs"
    effects_key = f"{config.prefix}:test:effects"

    async def runs() -> list[bytes | str]:
        return await redis_client.lrange(runs_key, 0, -1)

    async def finish(job: Job) -> None:
        # Idempotent, as handlers should be: the effect happens once per job id.
        await redis_client.rpush(runs_key, "B")
        if await redis_client.set(f"{config.prefix}:test:effect:{job.id}", 1, nx=True):
            await redis_client.incr(effects_key)

    async def started_on_a() -> bool:
        return await runs() == [b"A"]

    await queue.enqueue("crash.slow", {"ticket": "t-1"}, key="wake:t-1")
    with worker_process(redis_url, config.prefix, "slow", "A", tmp_path) as worker_a:
        await eventually(started_on_a)
        [pending] = await redis_client.xpending_range(stream, GROUP, "-", "+", 10)
        assert pending["consumer"] == b"A"
        [body] = await stream_bodies(redis_client, queue)
        kill(worker_a)

    assert not await queue.is_done("wake:t-1")
    async with consuming(queue, {"crash.slow": finish}, consumer="B"):
        await eventually(lambda: queue.is_done("wake:t-1"))
        await eventually(lambda: drained(queue))
        assert await runs() == [b"A", b"B"]

        # The dead worker's copy of the job comes back (it had read it before dying): taken
        # over once it is idle, it is dropped because its key is done.
        await redis_client.xadd(stream, {"j": body})
        await redis_client.xreadgroup(GROUP, "A", {stream: ">"}, count=1)
        await eventually(lambda: drained(queue))

    assert await runs() == [b"A", b"B"]
    assert await redis_client.get(effects_key) == b"1"
    assert await queue.dead_letters() == []
