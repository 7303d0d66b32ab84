"""One worker's consumer: reads jobs, runs a bounded number at once, keeps its claim on the
ones it is running, and takes over jobs whose worker died.

Claims: while a handler runs, its entry's idle time is reset every `claim_idle / 3` (XCLAIM
JUSTID, only while this consumer still owns it), so a long job is never taken from a live
worker. Entries idle for `claim_idle` therefore belong to a worker that died (or whose event
loop is blocked): XAUTOCLAIM moves them to a live consumer, which runs them unless their key
is already done. An entry delivered more than `max_attempts` times without ever finishing
(say, a job that kills its worker every time) goes to the dead letters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

import msgspec
from redis.exceptions import RedisError, ResponseError

from app.jobs.entries import entry_body, stream_entries, text
from app.jobs.keys import GROUP
from app.jobs.model import Handler, Job, JobError, decode_job
from app.jobs.waits import pause, reraise_if_cancelled, wait_any

if TYPE_CHECKING:
    from app.jobs.queue import JobQueue

log = logging.getLogger("tandem.jobs")

# KEYS: stream. ARGV: group, consumer, entry ids. Resets the idle time of the entries this
# consumer still owns; one taken over by another consumer stays theirs.
KEEP_CLAIMS = """
for i = 3, #ARGV do
  local entry = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)[1]
  if entry and entry[2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  end
end
return 0
"""

REDIS_TROUBLE = (RedisError, OSError)


class Consumer:
    def __init__(self, queue: JobQueue, handlers: Mapping[str, Handler], name: str) -> None:
        self.queue = queue
        self.redis = queue.redis
        self.config = queue.config
        self.handlers = dict(handlers)
        self.name = name
        self.running: dict[str, asyncio.Task[None]] = {}
        self._slot_freed = asyncio.Event()
        self._keep_claims = self.redis.register_script(KEEP_CLAIMS)

    @property
    def free_slots(self) -> int:
        return self.config.concurrency - len(self.running)

    async def run(self, stop: asyncio.Event) -> None:
        await self.queue.ensure_group()
        helpers = [
            asyncio.create_task(self._every(stop, self.config.claim_idle / 2, self._reclaim)),
            asyncio.create_task(self._every(stop, self.config.pump_every, self.queue.pump_retries)),
        ]
        # Claims are kept while draining too, so finishing jobs are not taken over.
        keeper = asyncio.create_task(
            self._every(asyncio.Event(), self.config.claim_idle / 3, self._keep)
        )
        try:
            await self._read(stop)
            if self.running:
                await asyncio.wait(list(self.running.values()), timeout=self.config.drain)
        finally:
            # A job cancelled here stays pending and is taken over by another worker.
            tasks = [*helpers, keeper, *self.running.values()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _read(self, stop: asyncio.Event) -> None:
        stream = self.queue.keys.stream
        while not stop.is_set():
            reraise_if_cancelled()
            if self.free_slots <= 0:
                self._slot_freed.clear()
                await wait_any(stop, self._slot_freed)
                continue
            try:
                answer = await self.redis.xreadgroup(
                    GROUP,
                    self.name,
                    {stream: ">"},
                    count=self.free_slots,
                    block=max(1, round(self.config.poll * 1000)),
                )
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                await self.queue.ensure_group()  # the stream was deleted under us
                continue
            except REDIS_TROUBLE:
                reraise_if_cancelled()
                log.warning("reading jobs failed; retrying", exc_info=True)
                await pause(stop, 1.0)
                continue
            for entry_id, body in stream_entries(answer):
                self._start(entry_id, body, deliveries=1)

    def _start(self, entry_id: str, body: bytes | str | None, *, deliveries: int) -> None:
        task = asyncio.create_task(self._execute(entry_id, body, deliveries))
        self.running[entry_id] = task
        task.add_done_callback(lambda done: self._ended(entry_id, done))

    def _ended(self, entry_id: str, task: asyncio.Task[None]) -> None:
        self.running.pop(entry_id, None)
        self._slot_freed.set()
        if not task.cancelled() and (exc := task.exception()) is not None:
            # The entry stays pending; it is retried when another consumer takes it over.
            log.error("job entry %s was left unfinished", entry_id, exc_info=exc)

    async def _execute(self, entry_id: str, body: bytes | str | None, deliveries: int) -> None:
        queue = self.queue
        if body is None:  # deleted while pending (Redis 6.2 still hands those out)
            await queue.skipped(entry_id)
            return
        try:
            job = decode_job(body)
        except msgspec.MsgspecError as exc:
            await queue.bury_unreadable(entry_id, body, str(exc))
            return
        if job.key is not None and await queue.is_done(job.key):
            log.info("job %s (%s) is already done; dropping a repeat", job.id, job.kind)
            await queue.skipped(entry_id)
            return
        if deliveries > self.config.max_attempts:
            lost = JobError(
                type="WorkerLost",
                message=f"delivered {deliveries} times; no worker finished it",
            )
            await queue.bury(entry_id, msgspec.structs.replace(job, last_error=lost))
            return
        handler = self.handlers.get(job.kind)
        if handler is None:
            missing = JobError(type="NoHandler", message=f"no handler for kind {job.kind!r}")
            await queue.bury(entry_id, msgspec.structs.replace(job, last_error=missing))
            return
        await self._call(handler, entry_id, job)

    async def _call(self, handler: Handler, entry_id: str, job: Job) -> None:
        try:
            async with asyncio.timeout(self.config.job_timeout):
                await handler(job)
        except Exception as exc:
            await self.queue.failed(entry_id, job, exc)
        else:
            await self.queue.finished(entry_id, job)

    async def _every(
        self, stop: asyncio.Event, seconds: float, step: Callable[[], Awaitable[object]]
    ) -> None:
        while not await pause(stop, seconds):
            reraise_if_cancelled()
            try:
                await step()
            except REDIS_TROUBLE:
                reraise_if_cancelled()
                log.warning("job queue upkeep failed; retrying", exc_info=True)

    async def _keep(self) -> None:
        if self.running:
            await self._keep_claims(
                keys=[self.queue.keys.stream], args=[GROUP, self.name, *self.running]
            )

    async def _reclaim(self) -> None:
        free = self.free_slots
        if free <= 0:
            return
        stream = self.queue.keys.stream
        cursor = "0-0"
        while free > 0:
            cursor_raw, claimed, *_ = await self.redis.xautoclaim(
                stream,
                GROUP,
                self.name,
                min_idle_time=round(self.config.claim_idle * 1000),
                start_id=cursor,
                count=free,
            )
            cursor = text(cursor_raw)
            for raw_id, fields in claimed:
                entry_id = text(raw_id)
                if entry_id in self.running:
                    continue
                deliveries = await self._deliveries(entry_id)
                log.warning("took over job entry %s (delivery %d)", entry_id, deliveries)
                self._start(entry_id, entry_body(fields), deliveries=deliveries)
                free -= 1
            if cursor == "0-0":
                return

    async def _deliveries(self, entry_id: str) -> int:
        pending = await self.redis.xpending_range(
            self.queue.keys.stream, GROUP, entry_id, entry_id, 1
        )
        return int(pending[0]["times_delivered"]) if pending else 1
