"""Shared by the job tests: fast settings on a fresh key prefix, waiting for a condition,
running a consumer for the length of a block, and reading the stream."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from app.jobs import Handler, Job, JobConfig, JobQueue
from app.jobs.entries import entry_body
from app.jobs.model import decode_job

ROOT = Path(__file__).resolve().parents[2]


def fast_config(**changes: Any) -> JobConfig:
    """Short waits so retries, take-overs and pumps happen within a test; a fresh prefix so
    tests never see each other's keys."""
    settings: dict[str, Any] = {
        "prefix": f"t-{uuid.uuid4().hex[:12]}",
        "backoff_base": 0.02,
        "backoff_cap": 0.1,
        "claim_idle": 0.5,
        "poll": 0.05,
        "pump_every": 0.02,
        "drain": 2.0,
    }
    settings.update(changes)
    return JobConfig(**settings)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    async with asyncio.timeout(seconds):
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)


@asynccontextmanager
async def consuming(
    queue: JobQueue, handlers: Mapping[str, Handler], consumer: str = "worker-1"
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(queue.run(handlers, consumer=consumer, stop=stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def stream_bodies(redis: aioredis.Redis, queue: JobQueue) -> list[bytes | str]:
    """The encoded jobs in the stream, oldest first."""
    bodies = [entry_body(fields) for _, fields in await redis.xrange(queue.keys.stream) or []]
    return [body for body in bodies if body is not None]


async def stream_jobs(redis: aioredis.Redis, queue: JobQueue) -> list[Job]:
    return [decode_job(body) for body in await stream_bodies(redis, queue)]


async def drained(queue: JobQueue) -> bool:
    """Nothing left to run: no entry waiting or running, no retry waiting."""
    stats = await queue.stats()
    return stats.stream_length == 0 and stats.pending == 0 and stats.retrying == 0


async def dead_count_is(queue: JobQueue, count: int) -> bool:
    return (await queue.stats()).dead == count


@contextmanager
def worker_process(
    redis_url: str, prefix: str, mode: str, consumer: str, log_dir: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A real worker process (tests/jobs/worker_process.py), killed at the end if alive."""
    with (log_dir / f"{consumer}.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.jobs.worker_process", redis_url, prefix, mode, consumer],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL: the worker gets no chance to ack, clean up or say goodbye."""
    proc.send_signal(signal.SIGKILL)
    proc.wait()
