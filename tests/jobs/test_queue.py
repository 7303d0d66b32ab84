"""Jobs on the real Redis: retries, dead letters, idempotency keys, bounded concurrency."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from app.jobs import Job, JobError, JobQueue
from app.jobs.entries import stream_entries
from app.jobs.keys import GROUP
from tests.jobs.helpers import (
    consuming,
    dead_count_is,
    drained,
    eventually,
    fast_config,
    stream_bodies,
)


async def test_a_job_that_fails_twice_then_succeeds_runs_three_times_and_is_done(
    redis_client: aioredis.Redis,
) -> None:
    queue = JobQueue(redis_client, fast_config())
    runs: list[Job] = []

    async def flaky(job: Job) -> None:
        runs.append(job)
        if len(runs) < 3:
            raise RuntimeError(f"provider down ({len(runs)})")

    job_id = await queue.enqueue("deliver.email", {"message": "m-1"}, key="deliver:m-1")
    async with consuming(queue, {"deliver.email": flaky}):
        await eventually(lambda: queue.is_done("deliver:m-1"))
        await eventually(lambda: drained(queue))

    assert [job.attempt for job in runs] == [1, 2, 3]
    assert {job.id for job in runs} == {job_id}
    assert all(job.payload == {"message": "m-1"} for job in runs)
    assert runs[2].last_error == JobError(type="RuntimeError", message="provider down (2)")
    assert await queue.dead_letters() == []
    assert (await queue.stats()).dead == 0


async def test_a_job_that_keeps_failing_is_dead_lettered_and_runs_again_when_requeued(
    redis_client: aioredis.Redis,
) -> None:
    queue = JobQueue(redis_client, fast_config(max_attempts=3))
    runs: list[int] = []
    broken = True

    async def handler(job: Job) -> None:
        runs.append(job.attempt)
        if broken:
            raise ValueError(f"bad address on attempt {job.attempt}")

    job_id = await queue.enqueue("deliver.email", {"to": "nobody@"}, key="deliver:m-2")
    async with consuming(queue, {"deliver.email": handler}):
        await eventually(lambda: dead_count_is(queue, 1))
        # Nothing is left that could run it again: no entry, no pending delivery, no retry.
        assert await drained(queue)
        assert runs == [1, 2, 3]

        [dead] = await queue.dead_letters()
        assert dead.job_id == job_id
        assert dead.kind == "deliver.email"
        assert dead.payload == {"to": "nobody@"}
        assert dead.attempts == 3
        assert dead.last_error == JobError(type="ValueError", message="bad address on attempt 3")
        # The key is not done, and enqueueing it again does not add a second copy.
        assert not await queue.is_done("deliver:m-2")
        assert await queue.enqueue("deliver.email", {"to": "nobody@"}, key="deliver:m-2") is None

        broken = False
        assert await queue.requeue_dead(dead.id)
        assert not await queue.requeue_dead(dead.id)  # a second click requeues nothing
        await eventually(lambda: queue.is_done("deliver:m-2"))

    assert runs == [1, 2, 3, 1]
    assert await queue.dead_letters() == []


async def test_a_job_of_unknown_kind_goes_straight_to_the_dead_letters(
    redis_client: aioredis.Redis,
) -> None:
    queue = JobQueue(redis_client, fast_config())
    await queue.enqueue("no.such.kind", {"x": 1})
    async with consuming(queue, {}):
        await eventually(lambda: dead_count_is(queue, 1))

    [dead] = await queue.dead_letters()
    assert dead.attempts == 1
    assert dead.last_error == JobError(
        type="NoHandler", message="no handler for kind 'no.such.kind'"
    )
    assert await queue.discard_dead(dead.id)
    assert await queue.dead_letters() == []
    assert not await queue.requeue_dead(dead.id)


async def test_a_key_enqueued_twice_runs_once(redis_client: aioredis.Redis) -> None:
    queue = JobQueue(redis_client, fast_config())
    runs: list[Job] = []

    async def handler(job: Job) -> None:
        runs.append(job)

    first = await queue.enqueue("ai.embed", {"doc": "d-1"}, key="embed:d-1")
    assert first is not None
    assert await queue.enqueue("ai.embed", {"doc": "d-1"}, key="embed:d-1") is None
    other = await queue.enqueue("ai.embed", {"doc": "d-2"}, key="embed:d-2")
    assert other is not None
    async with consuming(queue, {"ai.embed": handler}):
        await eventually(lambda: queue.is_done("embed:d-1"))
        await eventually(lambda: queue.is_done("embed:d-2"))
        # Once done, the key stays taken.
        assert await queue.enqueue("ai.embed", {"doc": "d-1"}, key="embed:d-1") is None
        await eventually(lambda: drained(queue))

    assert sorted(job.id for job in runs) == sorted([first, other])


async def test_a_redelivered_job_whose_key_is_done_does_not_run_again(
    redis_client: aioredis.Redis,
) -> None:
    queue = JobQueue(redis_client, fast_config())
    runs: list[Job] = []

    async def handler(job: Job) -> None:
        runs.append(job)

    await queue.enqueue("ai.embed", {"doc": "d-3"}, key="embed:d-3")
    [body] = await stream_bodies(redis_client, queue)
    async with consuming(queue, {"ai.embed": handler}):
        await eventually(lambda: queue.is_done("embed:d-3"))
        await redis_client.xadd(queue.keys.stream, {"j": body})  # the same job comes back
        await eventually(lambda: drained(queue))

    assert len(runs) == 1


async def test_no_more_handlers_run_at_once_than_the_concurrency_allows(
    redis_client: aioredis.Redis,
) -> None:
    queue = JobQueue(redis_client, fast_config(concurrency=2))
    running = 0
    most = 0
    done: list[int] = []

    async def handler(job: Job) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.05)
        running -= 1
        done.append(job.payload["n"])

    for n in range(8):
        await queue.enqueue("slow", {"n": n})
    async with consuming(queue, {"slow": handler}):
        await eventually(lambda: drained(queue))

    assert sorted(done) == list(range(8))
    assert most == 2


async def test_an_entry_that_is_not_a_job_is_dead_lettered(redis_client: aioredis.Redis) -> None:
    queue = JobQueue(redis_client, fast_config())
    await queue.ensure_group()
    await redis_client.xadd(queue.keys.stream, {"j": b"{not json"})
    async with consuming(queue, {}):
        await eventually(lambda: dead_count_is(queue, 1))

    [dead] = await queue.dead_letters()
    assert dead.payload == {"raw": "{not json"}
    assert dead.last_error is not None
    assert dead.last_error.type == "UnreadableJob"


async def test_a_job_whose_workers_keep_dying_ends_in_the_dead_letters(
    redis_client: aioredis.Redis,
) -> None:
    queue = JobQueue(redis_client, fast_config(max_attempts=3))
    runs: list[Job] = []

    async def handler(job: Job) -> None:
        runs.append(job)

    await queue.enqueue("crashes.worker", {})
    await queue.ensure_group()
    stream = queue.keys.stream
    # Three workers in turn took it and died before finishing.
    [(entry_id, _)] = stream_entries(await redis_client.xreadgroup(GROUP, "gone-1", {stream: ">"}))
    for name in ("gone-2", "gone-3"):
        await redis_client.xclaim(stream, GROUP, name, 0, [entry_id])
    async with consuming(queue, {"crashes.worker": handler}):
        await eventually(lambda: dead_count_is(queue, 1))

    assert runs == []
    [dead] = await queue.dead_letters()
    assert dead.last_error == JobError(
        type="WorkerLost", message="delivered 4 times; no worker finished it"
    )
    assert await drained(queue)


async def test_a_long_job_is_left_to_its_live_worker_and_taken_over_when_it_dies(
    redis_client: aioredis.Redis,
) -> None:
    queue = JobQueue(redis_client, fast_config(claim_idle=0.5, max_attempts=3))
    runs: list[str] = []

    async def on_a(job: Job) -> None:
        runs.append("A")
        await asyncio.sleep(60)

    async def on_b(job: Job) -> None:
        runs.append("B")

    await queue.enqueue("long", {}, key="long-1")
    stop_a = asyncio.Event()
    worker_a = asyncio.create_task(queue.run({"long": on_a}, consumer="A", stop=stop_a))
    try:
        await eventually(lambda: _started(runs))
        async with consuming(queue, {"long": on_b}, consumer="B"):
            await asyncio.sleep(2.0)  # four times the idle time after which a job is taken
            assert runs == ["A"]
            worker_a.cancel()  # A dies without finishing: its entry stays pending
            await asyncio.gather(worker_a, return_exceptions=True)
            await eventually(lambda: queue.is_done("long-1"))
    finally:
        worker_a.cancel()
        await asyncio.gather(worker_a, return_exceptions=True)

    assert runs == ["A", "B"]
    assert await queue.dead_letters() == []


async def _started(runs: list[str]) -> bool:
    return bool(runs)


async def test_jobs_run_the_same_on_a_resp3_client_that_decodes_responses(
    redis_url: str,
) -> None:
    client = aioredis.from_url(redis_url, protocol=3, decode_responses=True)
    queue = JobQueue(client, fast_config(max_attempts=2))
    runs: list[Job] = []

    async def handler(job: Job) -> None:
        runs.append(job)
        if job.payload["fail"]:
            raise RuntimeError("always")

    try:
        await queue.enqueue("resp3", {"fail": False}, key="resp3-ok")
        await queue.enqueue("resp3", {"fail": True})
        async with consuming(queue, {"resp3": handler}):
            await eventually(lambda: queue.is_done("resp3-ok"))
            await eventually(lambda: dead_count_is(queue, 1))
            assert await drained(queue)
        [dead] = await queue.dead_letters()
        assert dead.attempts == 2
        assert dead.payload == {"fail": True}
        assert await queue.requeue_dead(dead.id)
    finally:
        await client.aclose()

    assert len(runs) == 3
