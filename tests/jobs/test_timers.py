"""Timers and periodic jobs on the real Redis: due times fire once, move, cancel, survive a
killed pump, and periodic jobs are enqueued once per period by any number of workers."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta
from pathlib import Path

import redis.asyncio as aioredis

from app.jobs import Job, JobQueue, Periodic, Timers, run_jobs
from app.jobs.model import utcnow
from app.jobs.periodic import enqueue_for_period
from tests.jobs.helpers import (
    consuming,
    drained,
    eventually,
    fast_config,
    kill,
    stream_jobs,
    worker_process,
)


def ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


async def test_a_timer_fires_once_at_its_due_time(redis_client: aioredis.Redis) -> None:
    config = fast_config()
    queue = JobQueue(redis_client, config)
    timers = Timers(queue)
    fired: list[tuple[Job, datetime]] = []

    async def wake(job: Job) -> None:
        fired.append((job, utcnow()))

    due = utcnow() + timedelta(seconds=0.5)
    await timers.schedule("ticket.wake", {"ticket": "t-1"}, due, key="snooze:t-1")
    assert (await queue.stats()).scheduled == 1
    stop = asyncio.Event()
    runner = asyncio.create_task(
        run_jobs(redis_client, {"ticket.wake": wake}, consumer="w", stop=stop, config=config)
    )
    await eventually(lambda: _has(fired))
    await eventually(lambda: drained(queue))
    for _ in range(3):  # later pumps find nothing more to fire
        assert await timers.pump() == 0
    stop.set()
    await runner

    [(job, at)] = fired
    assert at >= due
    assert job.payload == {"ticket": "t-1"}
    assert job.key == f"snooze:t-1@{ms(due)}"
    assert await timers.due("snooze:t-1") is None
    assert (await queue.stats()).scheduled == 0


async def test_rescheduling_a_timer_moves_it(redis_client: aioredis.Redis) -> None:
    queue = JobQueue(redis_client, fast_config())
    timers = Timers(queue)
    start = utcnow()
    first, later = start + timedelta(seconds=10), start + timedelta(seconds=20)

    await timers.schedule("ticket.wake", {"v": 1}, first, key="snooze:t-2")
    await timers.schedule("ticket.wake", {"v": 2}, later, key="snooze:t-2")
    assert await timers.due("snooze:t-2") == datetime.fromtimestamp(ms(later) / 1000, later.tzinfo)

    assert await timers.pump(start + timedelta(seconds=15)) == 0
    assert await stream_jobs(redis_client, queue) == []
    assert await timers.pump(start + timedelta(seconds=21)) == 1
    [job] = await stream_jobs(redis_client, queue)
    assert job.payload == {"v": 2}
    assert job.key == f"snooze:t-2@{ms(later)}"

    # The same timer and due time set again after it fired is the same firing: not repeated.
    await timers.schedule("ticket.wake", {"v": 2}, later, key="snooze:t-2")
    await timers.pump(start + timedelta(seconds=22))
    assert len(await stream_jobs(redis_client, queue)) == 1


async def test_a_cancelled_timer_never_fires(redis_client: aioredis.Redis) -> None:
    queue = JobQueue(redis_client, fast_config())
    timers = Timers(queue)
    due = utcnow() + timedelta(seconds=1)
    await timers.schedule("sla.breach", {"ticket": "t-3"}, due, key="sla:t-3")

    assert await timers.cancel("sla:t-3")
    assert not await timers.cancel("sla:t-3")
    assert await timers.pump(due + timedelta(days=1)) == 0
    assert await stream_jobs(redis_client, queue) == []
    assert (await queue.stats()).scheduled == 0


async def test_pumps_running_at_once_fire_each_timer_once(
    redis_client: aioredis.Redis, redis_url: str
) -> None:
    config = fast_config()
    other_client = aioredis.from_url(redis_url)
    try:
        pumps = [Timers(JobQueue(redis_client, config)), Timers(JobQueue(other_client, config))]
        now = utcnow()
        for n in range(300):
            due = now - timedelta(milliseconds=n % 7)
            await pumps[0].schedule("ticket.wake", {"n": n}, due, key=f"snooze:{n}")
        moved = await asyncio.gather(*(pumps[i % 2].pump(now) for i in range(20)))
    finally:
        await other_client.aclose()

    assert sum(moved) == 300
    jobs = await stream_jobs(redis_client, pumps[0].queue)
    assert sorted(job.payload["n"] for job in jobs) == list(range(300))


async def test_a_timer_survives_its_killed_pump_and_fires_once_after_a_restart(
    redis_client: aioredis.Redis, redis_url: str, tmp_path: Path
) -> None:
    config = fast_config()
    queue = JobQueue(redis_client, config)
    timers = Timers(queue)
    pumps_key = f"{config.prefix}:test:pumps"

    async def pump_running() -> bool:
        return await redis_client.llen(pumps_key) == 1

    with worker_process(redis_url, config.prefix, "pump", "pump-1", tmp_path) as pump:
        await eventually(pump_running)
        due = utcnow() + timedelta(seconds=1)
        await timers.schedule("ticket.wake", {"ticket": "t-4"}, due, key="snooze:t-4")
        kill(pump)

    await asyncio.sleep((due - utcnow()).total_seconds() + 0.2)  # past due, no pump running
    assert await timers.due("snooze:t-4") is not None  # kept in Redis, not yet fired
    assert await stream_jobs(redis_client, queue) == []

    with worker_process(redis_url, config.prefix, "pump", "pump-2", tmp_path):
        await eventually(lambda: _fired(redis_client, queue))

    fired: list[Job] = []

    async def wake(job: Job) -> None:
        fired.append(job)

    async with consuming(queue, {"ticket.wake": wake}):
        await eventually(lambda: drained(queue))
    assert [job.payload for job in fired] == [{"ticket": "t-4"}]
    assert await timers.due("snooze:t-4") is None


async def test_a_periodic_job_is_enqueued_once_per_period_by_two_workers(
    redis_client: aioredis.Redis, redis_url: str
) -> None:
    config = fast_config()
    every = 0.2
    runs: list[Job] = []

    async def sweep(job: Job) -> None:
        runs.append(job)

    other_client = aioredis.from_url(redis_url)
    stop = asyncio.Event()
    workers = [
        asyncio.create_task(
            run_jobs(
                client,
                {"outbox.sweep": sweep},
                consumer=name,
                stop=stop,
                periodic=[Periodic("outbox.sweep", every=every)],
                config=config,
            )
        )
        for client, name in ((redis_client, "w1"), (other_client, "w2"))
    ]
    try:
        await eventually(lambda: _at_least(runs, 6))
    finally:
        stop.set()
        await asyncio.gather(*workers)
        await other_client.aclose()

    periods = [math.floor(job.enqueued_at.timestamp() / every) for job in runs]
    assert len(periods) == len(set(periods))


async def test_one_enqueue_per_period_whoever_asks(redis_client: aioredis.Redis) -> None:
    queue = JobQueue(redis_client, fast_config())
    sweep = Periodic("outbox.sweep", every=5.0)
    now = 1_000_000.0  # the start of a period

    same_period = await asyncio.gather(
        *(enqueue_for_period(queue, sweep, now + offset) for offset in (0.0, 1.0, 4.9))
    )
    next_period = await enqueue_for_period(queue, sweep, now + 5.0)

    assert sum(job_id is not None for job_id in same_period) == 1
    assert next_period is not None
    assert len(await stream_jobs(redis_client, queue)) == 2


async def _has(items: list[tuple[Job, datetime]]) -> bool:
    return bool(items)


async def _at_least(items: list[Job], count: int) -> bool:
    return len(items) >= count


async def _fired(redis: aioredis.Redis, queue: JobQueue) -> bool:
    return len(await stream_jobs(redis, queue)) == 1
