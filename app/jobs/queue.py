"""Durable background jobs on a Redis stream read by one consumer group.

Delivery is at least once. A job is appended to the stream; a worker reads it with
XREADGROUP, runs its handler and, on success, acks and deletes the entry in one transaction
that also marks the job's idempotency key done. A failed run is acked and parked in the
retry set with its due time and the error; the pump appends it again when due, as attempt
n+1. After `max_attempts` runs, or when no handler knows its kind, the job goes to the
dead-letter stream. An entry whose worker died stays pending and is taken over by a live
worker (see app/jobs/consumer.py). Nothing is ever dropped without reaching one of: done,
the retry set, or the dead letters.

Idempotency keys: `enqueue(..., key=K)` sets marker K to "queued" and appends in one script,
so K is enqueued once until its marker expires (`marker_ttl` after the job ended); a job whose
marker says "done" is acked without running, which stops a second run when an entry comes
back after a successful run. Handlers should still be idempotent: a worker that dies after
its handler's effect but before the ack is run again elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError

from app.jobs.config import JobConfig
from app.jobs.consumer import Consumer
from app.jobs.due import DueSet
from app.jobs.entries import entry_body, entry_ms, text
from app.jobs.keys import GROUP, JobKeys
from app.jobs.model import (
    DeadJob,
    Handler,
    Job,
    JobError,
    QueueStats,
    decode_job,
    encode_job,
    from_ms,
    utcnow,
)

log = logging.getLogger("tandem.jobs")

# KEYS: stream, [marker or guard]. ARGV: encoded job, marker value, marker TTL (ms).
ENQUEUE = """
if KEYS[2] and not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  return false
end
return redis.call('XADD', KEYS[1], '*', 'j', ARGV[1])
"""

# KEYS: dead stream, stream, [marker]. ARGV: dead entry id, encoded job, marker TTL (ms).
# Deleting the dead entry first makes a double click requeue once.
REQUEUE = """
if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then return false end
if KEYS[3] then redis.call('SET', KEYS[3], 'queued', 'PX', ARGV[3]) end
return redis.call('XADD', KEYS[2], '*', 'j', ARGV[2])
"""

QUEUED, DONE, DEAD = "queued", "done", "dead"


class JobQueue:
    def __init__(self, redis: aioredis.Redis, config: JobConfig | None = None) -> None:
        self.redis = redis
        self.config = config or JobConfig()
        self.keys = JobKeys(self.config.prefix)
        self.marker_ttl_ms = round(self.config.marker_ttl * 1000)
        self.retries = DueSet(redis, self.keys, self.keys.retries, marker_ttl_ms=self.marker_ttl_ms)
        self._enqueue = redis.register_script(ENQUEUE)
        self._requeue = redis.register_script(REQUEUE)

    # Producing

    async def enqueue(
        self, kind: str, payload: dict[str, Any], *, key: str | None = None
    ) -> str | None:
        """Append a job; answer its id, or None when a job with `key` is already queued or
        was done less than `marker_ttl` ago."""
        job = Job(id=uuid.uuid4().hex, kind=kind, payload=payload, key=key, enqueued_at=utcnow())
        marker = None if key is None else self.keys.marker(key)
        return await self._append(job, marker, QUEUED, self.marker_ttl_ms)

    async def enqueue_guarded(
        self, kind: str, payload: dict[str, Any], *, guard: str, ttl: float
    ) -> str | None:
        """Append a job unless `guard` was taken in the last `ttl` seconds (by any process);
        the job itself carries no idempotency key."""
        job = Job(id=uuid.uuid4().hex, kind=kind, payload=payload, enqueued_at=utcnow())
        return await self._append(job, self.keys.guard(guard), "1", round(ttl * 1000))

    async def _append(self, job: Job, marker: str | None, value: str, ttl_ms: int) -> str | None:
        keys = [self.keys.stream] if marker is None else [self.keys.stream, marker]
        added = await self._enqueue(keys=keys, args=[encode_job(job), value, ttl_ms])
        return job.id if added else None

    # Consuming

    async def run(
        self, handlers: Mapping[str, Handler], *, consumer: str, stop: asyncio.Event
    ) -> None:
        """Run jobs as `consumer` (unique per process) until `stop` is set; also moves due
        retries back into the stream and takes over jobs whose worker died."""
        await Consumer(self, handlers, consumer).run(stop)

    async def ensure_group(self) -> None:
        # From the stream's start, so jobs enqueued before any worker ever ran are read.
        try:
            await self.redis.xgroup_create(self.keys.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def is_done(self, key: str) -> bool:
        return text(await self.redis.get(self.keys.marker(key)) or b"") == DONE

    async def finished(self, entry_id: str, job: Job) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            self._remove_entry(pipe, entry_id)
            if job.key is not None:
                pipe.set(self.keys.marker(job.key), DONE, px=self.marker_ttl_ms)
            await pipe.execute()

    async def skipped(self, entry_id: str) -> None:
        """Ack an entry that must not run (its job is already done)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            self._remove_entry(pipe, entry_id)
            await pipe.execute()

    async def failed(self, entry_id: str, job: Job, exc: BaseException) -> None:
        error = JobError.from_exception(exc)
        if job.attempt >= self.config.max_attempts:
            log.error("job %s (%s) failed for good: %s", job.id, job.kind, error.message)
            await self.bury(entry_id, msgspec.structs.replace(job, last_error=error))
            return
        delay = self.config.retry_delay(job.attempt)
        log.warning(
            "job %s (%s) attempt %d failed, retrying in %.1fs: %s: %s",
            job.id,
            job.kind,
            job.attempt,
            delay,
            error.type,
            error.message,
        )
        again = msgspec.structs.replace(job, attempt=job.attempt + 1, last_error=error)
        due_ms = round((utcnow().timestamp() + delay) * 1000)
        async with self.redis.pipeline(transaction=True) as pipe:
            self._remove_entry(pipe, entry_id)
            self.retries.put(pipe, job.id, encode_job(again), due_ms)
            await pipe.execute()

    async def bury(self, entry_id: str, job: Job) -> None:
        """Move a job to the dead letters, acking its entry in the same transaction."""
        async with self.redis.pipeline(transaction=True) as pipe:
            self._remove_entry(pipe, entry_id)
            pipe.xadd(self.keys.dead, {"j": encode_job(job)})
            if job.key is not None:
                pipe.set(self.keys.marker(job.key), DEAD, px=self.marker_ttl_ms)
            await pipe.execute()

    async def bury_unreadable(self, entry_id: str, body: bytes | str | None, why: str) -> None:
        raw = text(body) if body is not None else ""
        job = Job(
            id=entry_id,
            kind="",
            payload={"raw": raw},
            enqueued_at=from_ms(entry_ms(entry_id)),
            last_error=JobError(type="UnreadableJob", message=why),
        )
        await self.bury(entry_id, job)

    def _remove_entry(self, pipe: Pipeline, entry_id: str) -> None:
        # Acked entries are deleted too: the stream holds only jobs not yet finished.
        pipe.xack(self.keys.stream, GROUP, entry_id)
        pipe.xdel(self.keys.stream, entry_id)

    async def pump_retries(self) -> int:
        """Append retries that are due; answer how many."""
        return await self.retries.move_due(round(utcnow().timestamp() * 1000))

    # Admin

    async def dead_letters(self, limit: int = 50) -> list[DeadJob]:
        """The latest dead jobs, newest first."""
        entries = await self.redis.xrevrange(self.keys.dead, count=limit)
        dead: list[DeadJob] = []
        for raw_id, fields in entries or []:
            body = entry_body(fields)
            if raw_id is None or body is None:
                continue
            entry_id = text(raw_id)
            job = decode_job(body)
            dead.append(
                DeadJob(
                    id=entry_id,
                    job_id=job.id,
                    kind=job.kind,
                    payload=job.payload,
                    key=job.key,
                    attempts=job.attempt,
                    last_error=job.last_error,
                    failed_at=from_ms(entry_ms(entry_id)),
                )
            )
        return dead

    async def requeue_dead(self, dead_id: str) -> bool:
        """Put a dead job back in the stream as a first attempt; False if there is no such
        dead entry (already requeued or discarded)."""
        entries = await self.redis.xrange(self.keys.dead, dead_id, dead_id)
        body = entry_body(entries[0][1]) if entries else None
        if body is None:
            return False
        job = msgspec.structs.replace(decode_job(body), attempt=1)
        keys = [self.keys.dead, self.keys.stream]
        if job.key is not None:
            keys.append(self.keys.marker(job.key))
        added = await self._requeue(keys=keys, args=[dead_id, encode_job(job), self.marker_ttl_ms])
        return bool(added)

    async def discard_dead(self, dead_id: str) -> bool:
        return bool(await self.redis.xdel(self.keys.dead, dead_id))

    async def discard_matching(self, matches: Callable[[bytes], bool], batch: int = 500) -> int:
        """Drop every job not yet done — waiting, running, retrying, dead, or a timer's —
        whose encoded form `matches` (the jobs about a person whose data is erased); answers
        how many went. A running one's worker finds its entry gone and its ack does nothing."""
        dropped = 0
        for stream in (self.keys.stream, self.keys.dead):
            start = "-"
            while True:
                found: Any = await self.redis.xrange(stream, min=start, max="+", count=batch)
                entries: list[Any] = found or []
                doomed = [
                    text(eid)
                    for eid, fields in entries
                    if (body := entry_body(fields)) is not None and matches(_raw(body))
                ]
                if doomed:
                    async with self.redis.pipeline(transaction=False) as pipe:
                        pipe.xdel(stream, *doomed)
                        if stream == self.keys.stream:  # no group yet when no worker ever ran
                            pipe.xack(stream, GROUP, *doomed)
                        await pipe.execute(raise_on_error=False)
                    dropped += len(doomed)
                if len(entries) < batch:
                    break
                start = "(" + text(entries[-1][0])
        for due in (self.retries, DueSet(self.redis, self.keys, self.keys.timers, marker_ttl_ms=0)):
            held: dict[Any, Any] = await self.redis.hgetall(due.set_keys.jobs)
            doomed = [text(name) for name, body in held.items() if matches(_raw(body))]
            if doomed:
                async with self.redis.pipeline(transaction=True) as pipe:
                    for name in doomed:
                        due.remove(pipe, name)
                    await pipe.execute()
                dropped += len(doomed)
        return dropped

    async def stats(self) -> QueueStats:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xlen(self.keys.stream)
            pipe.xpending(self.keys.stream, GROUP)
            pipe.xlen(self.keys.dead)
            pipe.zcard(self.keys.timers.due)
            pipe.zcard(self.keys.retries.due)
            length, pending, dead, scheduled, retrying = await pipe.execute(raise_on_error=False)
        if isinstance(pending, ResponseError):  # no worker has created the group yet
            pending = {"pending": 0}
        for answer in (length, pending, dead, scheduled, retrying):
            if isinstance(answer, Exception):
                raise answer
        return QueueStats(
            stream_length=int(length),
            pending=int(pending["pending"]),
            dead=int(dead),
            scheduled=int(scheduled),
            retrying=int(retrying),
        )


def _raw(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body
