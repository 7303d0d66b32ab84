"""One WebSocket as the hub holds it: the socket, its session and its outgoing queue."""

from __future__ import annotations

import asyncio
from typing import NamedTuple, Protocol

from realtime.session import Close, Session


class Socket(Protocol):
    """What the hub needs of a WebSocket; starlette.websockets.WebSocket has it."""

    async def receive_text(self) -> str: ...

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Item(NamedTuple):
    text: str
    seq: int = 0  # of the event it carries
    reply: bool = False
    close: Close | None = None


class Connection:
    def __init__(self, socket: Socket, session: Session) -> None:
        self.socket = socket
        self.session = session
        # Unbounded as a container; the hub bounds the live frames in it (see _push_live).
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        self.replies = 0  # reply frames in the queue
        self.written = -1  # seq of the last event written, or -1
        self.first_prev = -1  # the seq the first queued event followed: nothing written yet
        self.closing: Close | None = None
        self.done = asyncio.Event()
        self.closed = asyncio.Event()
        self.catching_up: asyncio.Task[None] | None = None
        self.catch_up_again = False

    def finish(self, close: Close | None) -> None:
        if not self.done.is_set():
            self.closing = close
            self.done.set()

    def resume_point(self) -> int:
        return self.written if self.written >= 0 else max(self.first_prev, 0)
