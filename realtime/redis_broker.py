"""The broker for production and several processes: one Lua script per publish, one pub/sub
connection per process.

Keys of a workspace share the hash tag `{ws:<id>}`, so the script and the replay transaction
stay in one Redis Cluster slot:

    <prefix>:{ws:<id>}:seq          INCR counter, the workspace's last seq
    <prefix>:{ws:<id>}:log          stream, entry id "<seq>-0", field "e" = event JSON (an
                                    erasure deletes the events about the person: `forget`)
    <prefix>:{ws:<id>}:dedupe:<eid> marker of a published event id, expires after `dedupe_ttl`
    <prefix>:{ws:<id>}:events       pub/sub channel of events (PSUBSCRIBEd by pattern)
    <prefix>:{ws:<id>}:signals      pub/sub channel of signals, never logged

When the pub/sub connection drops, events published meanwhile never arrive live. After it is
back (and subscribed *before* reading, so nothing falls between), every workspace this process
has delivered events of is re-read from its log since the last delivered seq and handed to the
handlers in order; duplicates of those that also arrive live are skipped. Then the reconnect
handlers get a `Reconnect` naming the workspaces recovered that way: sockets of any other
workspace (log trimmed past the gap, or never seen by this process) must resume by seq.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from realtime.broker import EventHandler, Reconnect, ReconnectHandler, Replay, SignalHandler
from realtime.events import Event, Signal, decode_event, encode_event
from realtime.memory_broker import call_handlers, replay_after

log = logging.getLogger(__name__)

# The event arrives encoded without `seq`; its JSON object is reopened to put the seq first, so
# the seq comes from the same atomic step as the log entry and needs no JSON library in Lua.
# A counter lost while its log survived (deleted, evicted) continues after the log's last entry,
# so a seq is never reused. The dedupe marker is written last: a script that fails halfway
# leaves the id publishable.
PUBLISH_LUA = """
local dedupe = KEYS[3]
if dedupe and redis.call('EXISTS', dedupe) == 1 then return false end
local seq = redis.call('INCR', KEYS[1])
if seq == 1 then
  local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
  if top then
    seq = tonumber(string.match(top[1], '^%d+')) + 1
    redis.call('SET', KEYS[1], seq)
  end
end
local payload = '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', payload)
redis.call('PUBLISH', ARGV[3], payload)
if dedupe then redis.call('SET', dedupe, '1', 'EX', ARGV[4]) end
return seq
"""

_json = msgspec.json.Encoder()
_signal_decoder = msgspec.json.Decoder(Signal)


def reconnect_delay(attempt: int, *, base: float = 0.05, cap: float = 5.0) -> float:
    # Exponential, with jitter so a fleet that lost Redis does not return in step.
    return min(cap, base * 2.0**attempt) * random.uniform(0.5, 1.0)


async def _close(pubsub: PubSub) -> None:
    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


class RedisBroker:
    def __init__(
        self,
        redis_url: str,
        *,
        log_size: int = 10_000,
        key_prefix: str = "tandem",
        dedupe_ttl: int = 86_400,
        ping_interval: float = 15.0,
    ) -> None:
        self._prefix = key_prefix
        self._log_size = log_size
        self._dedupe_ttl = dedupe_ttl
        self._ping_interval = ping_interval
        # Retried, so a Redis restart or failover costs no failed publish. A retried script can
        # run twice only if the reply was lost after it ran: then an event with an id is
        # deduplicated (publish returns None), one without may be delivered twice.
        self._redis = aioredis.Redis.from_url(
            redis_url, retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), 3)
        )
        self._publish_script = self._redis.register_script(PUBLISH_LUA)
        # The subscriber reconnects in our own loop, never silently inside redis-py, so that
        # every reconnect is followed by recovery from the log. Its name shows in CLIENT LIST.
        self.client_name = f"{key_prefix}-sub-{uuid.uuid4().hex[:12]}"
        self._sub = aioredis.Redis.from_url(
            redis_url, retry=Retry(NoBackoff(), 0), client_name=self.client_name
        )
        self._events_pattern = f"{_glob_escape(key_prefix)}:{{ws:*}}:events".encode()
        self._signals_pattern = f"{_glob_escape(key_prefix)}:{{ws:*}}:signals".encode()
        self._event_handlers: list[EventHandler] = []
        self._signal_handlers: list[SignalHandler] = []
        self._reconnect_handlers: list[ReconnectHandler] = []
        self._reader: asyncio.Task[None] | None = None
        self._delivered: dict[str, int] = {}  # last seq handed to handlers, per workspace
        self._skip_through: dict[str, int] = {}  # live duplicates of a post-reconnect re-read
        self.reconnects = 0

    def _key(self, ws: str, part: str) -> str:
        return f"{self._prefix}:{{ws:{ws}}}:{part}"

    async def start(self) -> None:
        if self._reader is not None:
            return
        # Subscribed before start() returns: an event published afterwards is never missed.
        # An unreachable Redis at start-up fails here, loudly, rather than in the background.
        pubsub = await self._subscribe()
        self._reader = asyncio.create_task(self._run(pubsub), name=f"{self.client_name}-reader")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self._sub.aclose()
        await self._redis.aclose()

    async def publish(self, event: Event) -> Event | None:
        ws = event.ws
        keys = [self._key(ws, "seq"), self._key(ws, "log")]
        if event.id:
            keys.append(self._key(ws, f"dedupe:{event.id}"))
        # seq 0 is left out of the JSON (the events omit defaults): the script puts the real one.
        body = encode_event(msgspec.structs.replace(event, seq=0))
        channel = self._key(ws, "events")
        args: list[bytes | str | int] = [body, self._log_size, channel, self._dedupe_ttl]
        seq = await self._publish_script(keys=keys, args=args)
        if seq is None:
            return None
        return msgspec.structs.replace(event, seq=int(seq))

    async def replay(self, ws: str, since: int, limit: int) -> Replay:
        since, limit = max(since, 0), max(limit, 0)
        # Stream ids stop at 2**64 - 1; a `since` that far out is past any log anyway.
        start = min(since + 1, 2**64 - 1)
        # One transaction, so the seq and the log are read at the same instant. Seqs are
        # consecutive, so when the replay can be complete (at most `limit` events after
        # `since`) the first `limit` entries are all of them: more are never read. (redis-py
        # refuses COUNT 0; one entry read for a limit of 0 changes no answer.)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(self._key(ws, "seq"))
            pipe.xrange(self._key(ws, "log"), min=f"{start}-0", max="+", count=max(limit, 1))
            raw_last, entries = await pipe.execute()
        events = [decode_event(fields[b"e"]) for _id, fields in entries]
        return replay_after(since, int(raw_last or 0), events, limit)

    async def last_seq(self, ws: str) -> int:
        return int(await self._redis.get(self._key(ws, "seq")) or 0)

    async def forget(self, ws: str, concerns: Callable[[bytes], bool], batch: int = 500) -> int:
        """Delete from the replay log every event whose JSON `concerns` says to (a person's
        data being erased); answers how many went. The seq goes on: a client resuming across
        a deleted event finds the replay incomplete and resyncs over HTTP, as it does past a
        trimmed log."""
        key, start, removed = self._key(ws, "log"), "-", 0
        while True:
            found: Any = await self._redis.xrange(key, min=start, max="+", count=batch)
            entries: list[tuple[bytes, dict[bytes, bytes]]] = found or []
            doomed = [eid for eid, fields in entries if concerns(fields.get(b"e", b""))]
            if doomed:
                removed += int(await self._redis.xdel(key, *doomed))
            if len(entries) < batch:
                return removed
            start = "(" + entries[-1][0].decode()

    async def published(self, ws: str, ids: list[str]) -> bool:
        if not ids:
            return True
        keys = [self._key(ws, f"dedupe:{event_id}") for event_id in ids]
        return int(await self._redis.exists(*keys)) == len(keys)

    async def signal(self, signal: Signal) -> None:
        await self._redis.publish(self._key(signal.ws, "signals"), _json.encode(signal))

    def on_event(self, handler: EventHandler) -> None:
        self._event_handlers.append(handler)

    def on_signal(self, handler: SignalHandler) -> None:
        self._signal_handlers.append(handler)

    def on_reconnect(self, handler: ReconnectHandler) -> None:
        self._reconnect_handlers.append(handler)

    async def _subscribe(self) -> PubSub:
        pubsub = self._sub.pubsub()
        try:
            await pubsub.psubscribe(self._events_pattern, self._signals_pattern)
            confirmed = 0
            async with asyncio.timeout(10):
                while confirmed < 2:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    # Redis confirms both patterns before it can push anything on them; were
                    # that ever not so, an event would be dispatched ahead of the recovery.
                    if message["type"] != "psubscribe":
                        raise RedisConnectionError(f"{message['type']} before subscription")
                    confirmed += 1
        except BaseException:
            await _close(pubsub)
            raise
        return pubsub

    async def _run(self, pubsub: PubSub | None) -> None:
        attempt = 0
        try:
            while True:
                try:
                    if pubsub is None:
                        pubsub = await self._subscribe()
                        await self._recover()
                    attempt = 0
                    await self._pump(pubsub)
                except Exception as exc:
                    task = asyncio.current_task()
                    if task is not None and task.cancelling():
                        # redis-py can turn a cancellation (close()) into a connection error:
                        # reconnecting then would keep close() waiting forever.
                        raise asyncio.CancelledError from exc
                    # The reader must outlive any failure: a dead reader loses events silently.
                    log.warning("broker pub/sub lost (%s: %s)", type(exc).__name__, exc)
                    if pubsub is not None:
                        with contextlib.suppress(Exception):
                            await _close(pubsub)
                        pubsub = None
                    await asyncio.sleep(reconnect_delay(attempt))
                    attempt += 1
        finally:
            if pubsub is not None:
                await _close(pubsub)

    async def _pump(self, pubsub: PubSub) -> None:
        loop = asyncio.get_running_loop()
        last_heard = last_ping = loop.time()
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            now = loop.time()
            if message is not None:
                last_heard = now
                await self._dispatch(message)
                continue
            # Live duplicates of a post-reconnect re-read were in flight before it ended, so
            # they are in by the first idle second. Stop skipping then: a Redis flushed later
            # restarts seqs at 1, and those events are new.
            self._skip_through.clear()
            # A half-open TCP connection stays silent forever; only an unanswered ping shows it.
            if now - last_heard > 2 * self._ping_interval:
                raise RedisConnectionError("pub/sub connection stopped answering pings")
            if now - last_heard > self._ping_interval and now - last_ping > self._ping_interval:
                await pubsub.ping()
                last_ping = now

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] != "pmessage":
            return
        try:
            if message["pattern"] == self._events_pattern:
                await self._deliver(decode_event(message["data"]))
            else:
                await call_handlers(self._signal_handlers, _signal_decoder.decode(message["data"]))
        except msgspec.DecodeError:
            log.warning("ignoring a malformed message on %r", message["channel"])

    async def _deliver(self, event: Event) -> None:
        skip = self._skip_through.get(event.ws)
        if skip is not None:
            if event.seq <= skip:
                return
            del self._skip_through[event.ws]
        self._delivered[event.ws] = event.seq
        await call_handlers(self._event_handlers, event)

    async def _recover(self) -> None:
        recovered: set[str] = set()
        lost: set[str] = set()
        for ws, last in list(self._delivered.items()):
            # No more than the log is meant to keep: a longer gap counts as lost (resync).
            replay = await self.replay(ws, last, self._log_size)
            if replay.complete:
                for event in replay.events:
                    await self._deliver(event)
                self._skip_through[ws] = self._delivered[ws]
                recovered.add(ws)
            else:
                # Carry on from the log's present, so new events (even a seq reset by a
                # flushed Redis) are delivered; these sockets must resync.
                self._delivered[ws] = replay.last_seq
                self._skip_through.pop(ws, None)
                lost.add(ws)
        self.reconnects += 1
        log.warning("broker pub/sub reconnected: recovered %s, lost %s", recovered, lost)
        info = Reconnect(frozenset(recovered), frozenset(lost))
        await call_handlers(self._reconnect_handlers, info)
