"""The client's side of exact delivery, without the socket: event frames in, events out in seq
order, each once. `realtime.client` feeds it; the browser app copies the same rules:

* seq <= last_seq: a duplicate (a replay overlapping what already came), dropped.
* prev > last_seq: a gap, something meant for this client is missing. Drop the frame and
  send `resume {since: last_seq}` once; until the server acknowledges it, further gaps are
  the same gap. (`prev` is the seq this socket got before; without it, seq - 1.)
* A hold (while the app fetches state over HTTP) parks events; releasing it with the seq
  the state was read at drops the parked ones that state already contains.
* resync: the events after last_seq are gone. A barrier goes into the output; when the
  consumer reaches it, `on_resync` refetches state (returning its seq watermark) while new
  events are held, so no event older than the refetched state is applied after it.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from realtime.events import Event, EventBase
from realtime.frames import EventFrame

OnResync = Callable[[], Awaitable[int | None]]


class Verdict(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    GAP = "gap"  # send resume now
    GAP_PENDING = "gap_pending"  # a resume is already on its way


@dataclass(frozen=True)
class _Barrier:
    seq: int


@dataclass(frozen=True)
class _End:
    error: BaseException | None


class EventStream:
    def __init__(self, since: int | None = None, on_resync: OnResync | None = None) -> None:
        self.last_seq = since  # the resume point: every event up to it was received
        self.resuming = False
        self.resyncs = 0
        self.duplicates = 0
        self._on_resync = on_resync
        self._holds = 0
        self._held: list[Event] = []
        self._floor = 0  # held events at or below it are contained in fetched state
        self._out: asyncio.Queue[Event | _Barrier | _End] = asyncio.Queue()
        self._ended = False

    def start(self, seq: int) -> None:
        """The hello ack's seq: where a client without a resume point starts."""
        if self.last_seq is None:
            self.last_seq = seq

    def receive(self, frame: EventFrame) -> Verdict:
        event = frame.event
        last = self.last_seq if self.last_seq is not None else event.seq - 1
        if event.seq <= last:
            self.duplicates += 1
            return Verdict.DUPLICATE
        prev = frame.prev if frame.prev is not None else event.seq - 1
        if prev > last:
            if self.resuming:
                return Verdict.GAP_PENDING
            self.resuming = True
            return Verdict.GAP
        self.last_seq = event.seq
        if self._holds:
            self._held.append(event)
        else:
            self._out.put_nowait(event)
        return Verdict.APPLIED

    def resumed(self) -> None:
        self.resuming = False

    def hold(self) -> None:
        self._holds += 1

    def release(self, watermark: int) -> None:
        self._floor = max(self._floor, watermark)
        self.last_seq = max(self.last_seq or 0, watermark)
        self._holds -= 1
        if self._holds == 0:
            for event in self._held:
                if event.seq > self._floor:
                    self._out.put_nowait(event)
            self._held.clear()

    def resync(self, seq: int) -> None:
        self.resyncs += 1
        self.last_seq = seq
        self.resuming = False
        self.hold()
        self._out.put_nowait(_Barrier(seq))

    def end(self, error: BaseException | None = None) -> None:
        if not self._ended:
            self._ended = True
            self._out.put_nowait(_End(error))

    async def next(self) -> Event:
        """The next event in order; StopAsyncIteration when the stream ended (or its error)."""
        while True:
            item = await self._out.get()
            if isinstance(item, EventBase):
                return item
            if isinstance(item, _End):
                self._out.put_nowait(item)  # every later call ends too
                if item.error is not None:
                    raise item.error
                raise StopAsyncIteration
            watermark: int | None = None
            try:
                if self._on_resync is not None:
                    watermark = await self._on_resync()
            finally:
                self.release(max(item.seq, watermark or 0))
