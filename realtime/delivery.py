"""Exactly once and in seq order, for one socket: its cursor over the workspace's events.

Every workspace event with seq <= `cursor` was either sent to the socket or is not for it, so
live events at or below it are duplicates. While a replay (hello with `since`, resume, catch-up)
is read from the broker, live events are buffered rather than sent; once it is in, the buffered
ones after it follow it in seq order. Whichever path brings an event first, it is sent once.

A live event more than one past the cursor means the broker lost some (a pub/sub reconnect):
it is buffered and `behind` is set; the owner then runs `sync(reset=False)`, which replays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from realtime.broker import Broker
from realtime.events import Event, VisitorEvent
from realtime.frames import EventFrame, Resync, VisitorEventFrame, event_frame


class Delivery:
    def __init__(
        self,
        broker: Broker,
        ws: str,
        view: Callable[[Event], Event | VisitorEvent | None],
        *,
        max_replay: int,
        max_buffer: int,
    ) -> None:
        self._broker = broker
        self._ws = ws
        self._view = view
        self._max_replay = max_replay
        self._max_buffer = max_buffer
        self.cursor = 0
        self.sent = 0  # the seq last sent, or the point the socket started from
        self.prev_seq = 0  # after offer() returned an event: the seq that event follows
        self.behind = False
        self._syncing = 0
        self._buffer: list[Event] = []
        self._lock = asyncio.Lock()

    def offer(self, event: Event) -> Event | VisitorEvent | None:
        if self._syncing or self.behind:
            if len(self._buffer) < self._max_buffer:
                self._buffer.append(event)
            # Past the bound the newest are dropped; the next live event then shows the hole.
            return None
        if event.seq <= self.cursor:
            return None
        if event.seq != self.cursor + 1:
            self.behind = True
            self._buffer.append(event)
            return None
        self.cursor = event.seq
        shown = self._view(event)
        if shown is None:
            return None
        self.prev_seq, self.sent = self.sent, event.seq
        return shown

    async def sync(
        self, since: int | None, *, reset: bool
    ) -> tuple[list[EventFrame | VisitorEventFrame | Resync], int, int]:
        """Replay after `since` (reset: the client's resume point; None: start live from now),
        or after the cursor (not reset: catch-up). Returns the frames, the workspace's last
        seq as read, and how many events came from the log."""
        # Counted rather than a flag, so live events stay buffered while another replay waits
        # for the lock: releasing them in between would send them ahead of that replay.
        self._syncing += 1
        self.behind = False
        try:
            async with self._lock:
                return await self._sync_locked(since, reset=reset)
        finally:
            self._syncing -= 1
            if not self._syncing:
                self._buffer.clear()

    async def _sync_locked(
        self, since: int | None, *, reset: bool
    ) -> tuple[list[EventFrame | VisitorEventFrame | Resync], int, int]:
        if reset:
            start = since if since is not None else await self._broker.last_seq(self._ws)
            self.cursor = self.sent = start
        latest, replayed = self.cursor, 0
        frames: list[EventFrame | VisitorEventFrame | Resync] = []
        need_replay = since is not None or not reset
        for _ in range(5):
            if need_replay:
                replay = await self._broker.replay(self._ws, self.cursor, self._max_replay)
                latest = replay.last_seq
                out = [f for e in replay.events if (f := self._accept(e))]
                if not replay.complete:
                    # The log lost some, or more than `max_replay` of the workspace's events
                    # followed: reading and sending them all would cost more than a refetch.
                    # The cursor may move down: the log was reset under a client from before.
                    frames.append(Resync(replay.last_seq))
                    self.cursor = self.sent = replay.last_seq
                else:
                    frames += out
                    replayed += len(out)
                    self.cursor = max(self.cursor, replay.last_seq)
            by_seq = {e.seq: e for e in self._buffer if e.seq > self.cursor}
            self._buffer.clear()
            pending = [by_seq[seq] for seq in sorted(by_seq)]
            if pending and pending[0].seq != self.cursor + 1:
                need_replay = True  # the broker skipped some while we read: read again
                continue
            frames += [f for e in pending if (f := self._accept(e))]
            return frames, latest, replayed
        raise RuntimeError(f"workspace {self._ws} kept skipping events during a replay")

    def _accept(self, event: Event) -> EventFrame | VisitorEventFrame | None:
        if event.seq <= self.cursor:
            return None
        self.cursor = event.seq
        shown = self._view(event)
        if shown is None:
            return None
        frame = event_frame(shown, prev=self.sent)
        self.sent = event.seq
        return frame
