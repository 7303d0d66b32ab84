"""One WebSocket as the hub holds it: the socket, its session and its outgoing queue."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

from realtime.session import Close, Session


class Socket(Protocol):
    """What the hub needs of a WebSocket; starlette.websockets.WebSocket has it."""

    async def receive(self) -> Mapping[str, Any]:
        """The next ASGI message: "websocket.receive" with "text" or "bytes", or
        "websocket.disconnect" once the client has gone."""
        ...

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Item(NamedTuple):
    text: str
    seq: int = 0  # of the event it carries
    reply: bool = False
    close: Close | None = None


class Flag:
    """A one-way asyncio.Event without the waiter deque it allocates up front: thousands of
    idle connections each hold two of these."""

    __slots__ = ("_set", "_waiter")

    def __init__(self) -> None:
        self._set = False
        self._waiter: asyncio.Future[None] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self) -> None:
        if self._set:
            return
        if self._waiter is None:
            self._waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._waiter)


class FrameQueue:
    """The outgoing frames of one connection, read by its one writer task. Unlike
    asyncio.Queue (three deques, about 1.5 KiB), an idle connection's costs nothing until a
    frame is queued. (A writer task started only while frames wait would save another
    1.4 KiB, but starting thousands of tasks per event measurably slowed fan-out.)"""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[Item] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def put_nowait(self, item: Item) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> Item:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()


class Connection:
    def __init__(self, socket: Socket, session: Session) -> None:
        self.socket = socket
        self.session = session
        # Unbounded as a container; the hub bounds the live frames in it (see _push_live).
        self.queue = FrameQueue()
        self.replies = 0  # reply frames in the queue
        self.written = -1  # seq of the last event written, or -1
        self.first_prev = -1  # the seq the first queued event followed: nothing written yet
        self.closing: Close | None = None
        self.done = Flag()
        self.closed = Flag()
        self.catching_up: asyncio.Task[None] | None = None
        self.catch_up_again = False

    def finish(self, close: Close | None) -> None:
        if not self.done.is_set():
            self.closing = close
            self.done.set()

    def resume_point(self) -> int:
        return self.written if self.written >= 0 else max(self.first_prev, 0)
