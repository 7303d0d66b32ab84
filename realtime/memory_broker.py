"""The broker for a single process (dev mode and tests): `RedisBroker`'s contract, in memory.

`replay_after` is the resume rule both brokers share: a replay is complete only when every
event after `since` is still retained, and there are at most the reader's `limit` of them.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import msgspec

from realtime.broker import EventHandler, ReconnectHandler, Replay, SignalHandler
from realtime.events import Event, EventBase, Signal

log = logging.getLogger(__name__)

T = TypeVar("T")


def replay_after(since: int, last_seq: int, retained: Iterable[Event], limit: int) -> Replay:
    """Answer "what happened after `since`" from the retained events of one workspace.

    Seqs are consecutive, so the answer is complete exactly when all `last_seq - since` of
    them are still there, and it is only given when that is at most `limit`. A `since` beyond
    `last_seq` comes from a log that no longer exists (a restarted dev process, a flushed
    Redis): that client must resync as well."""
    since = max(since, 0)
    if since > last_seq or last_seq - since > limit:
        return Replay(events=[], complete=False, last_seq=last_seq)
    events = [event for event in retained if since < event.seq <= last_seq]
    if len(events) != last_seq - since:
        # Handing out the partial tail would invite the client to apply it over a hole.
        return Replay(events=[], complete=False, last_seq=last_seq)
    return Replay(events=events, complete=True, last_seq=last_seq)


async def call_handlers(handlers: Iterable[Callable[[T], Awaitable[None]]], item: T) -> None:
    # One failing subscriber must not starve the others, nor kill the delivery loop.
    for handler in list(handlers):
        try:
            await handler(item)
        except Exception:
            log.exception("broker handler %r failed on %r", handler, item)


class MemoryBroker:
    def __init__(self, *, log_size: int = 10_000, dedupe_size: int = 100_000) -> None:
        self._log_size = log_size
        self._dedupe_size = dedupe_size
        self._seqs: dict[str, int] = {}
        self._logs: dict[str, deque[Event]] = {}
        # Insertion-ordered, so the oldest remembered id is the first key.
        self._seen: dict[tuple[str, str], None] = {}
        self._event_handlers: list[EventHandler] = []
        self._signal_handlers: list[SignalHandler] = []
        self._reconnect_handlers: list[ReconnectHandler] = []
        self._pending: deque[Event | Signal] = deque()
        self._delivering = False

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        self._event_handlers.clear()
        self._signal_handlers.clear()
        self._reconnect_handlers.clear()
        self._pending.clear()

    async def publish(self, event: Event) -> Event | None:
        if event.id:
            # Scoped per workspace like RedisBroker's dedupe keys, which live in its hash slot.
            key = (event.ws, event.id)
            if key in self._seen:
                return None
            self._seen[key] = None
            if len(self._seen) > self._dedupe_size:
                del self._seen[next(iter(self._seen))]
        seq = self._seqs.get(event.ws, 0) + 1
        self._seqs[event.ws] = seq
        published = msgspec.structs.replace(event, seq=seq)
        self._log(event.ws).append(published)
        self._pending.append(published)
        await self._deliver()
        return published

    async def replay(self, ws: str, since: int, limit: int) -> Replay:
        last = self._seqs.get(ws, 0)
        # The log is consecutive with its newest last: the events after `since` are its last
        # `last - since` entries, so no more than `limit` of them are ever looked at.
        wanted = max(0, min(limit, last - since))
        tail = list(itertools.islice(reversed(self._logs.get(ws, ())), wanted))
        return replay_after(since, last, reversed(tail), limit)

    async def last_seq(self, ws: str) -> int:
        return self._seqs.get(ws, 0)

    async def published(self, ws: str, ids: list[str]) -> bool:
        return all((ws, event_id) in self._seen for event_id in ids)

    async def signal(self, signal: Signal) -> None:
        self._pending.append(signal)
        await self._deliver()

    def on_event(self, handler: EventHandler) -> None:
        self._event_handlers.append(handler)

    def on_signal(self, handler: SignalHandler) -> None:
        self._signal_handlers.append(handler)

    def on_reconnect(self, handler: ReconnectHandler) -> None:
        # Delivery here is a function call that cannot be interrupted: never called.
        self._reconnect_handlers.append(handler)

    def _log(self, ws: str) -> deque[Event]:
        log_ = self._logs.get(ws)
        if log_ is None:
            log_ = self._logs[ws] = deque(maxlen=self._log_size)
        return log_

    async def _deliver(self) -> None:
        # Handlers must see events in seq order even with concurrent publishers, and a handler
        # may itself publish. A lock would deadlock on that re-entrant publish, so whoever finds
        # no delivery running drains the queue and everyone else only enqueues. A lone publisher
        # therefore returns after its handlers ran, which keeps dev mode and tests predictable.
        if self._delivering:
            return
        self._delivering = True
        try:
            while self._pending:
                item = self._pending.popleft()
                if isinstance(item, EventBase):
                    await call_handlers(self._event_handlers, item)
                else:
                    await call_handlers(self._signal_handlers, item)
        finally:
            self._delivering = False
