"""What the server's frames do to a client, without the socket: the event stream, signals,
errors, acknowledgements. `TandemClient` sends whatever reply `receive` asks for."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from typing import NamedTuple

import msgspec

from realtime.events import Signal
from realtime.frames import (
    Ack,
    ClientFrame,
    Error,
    EventFrame,
    Hello,
    Pong,
    Resume,
    Resync,
    SignalFrame,
    decode_server_frame,
)
from realtime.stream import EventStream, OnResync, Verdict

log = logging.getLogger(__name__)


class ServerError(Exception):
    def __init__(self, code: str, message: str, id: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.id = code, message, id


class ConnectionFailed(Exception):
    """The server refused the client for good (bad credentials, a protocol violation)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed with {code}: {reason}")
        self.code, self.reason = code, reason


class Reaction(NamedTuple):
    reply: ClientFrame | None = None
    signal: Signal | None = None


class ClientState:
    def __init__(self, since: int | None = None, on_resync: OnResync | None = None) -> None:
        self.stream = EventStream(since, on_resync)
        self.signals: deque[Signal] = deque(maxlen=1000)
        self.errors: deque[ServerError] = deque(maxlen=100)
        self.connections = 0  # hellos acknowledged: 1 + reconnects
        self.replayed = 0  # events the server replayed on hello or resume
        self.resumes = 0  # gaps noticed
        self.last_pong = 0.0
        self.ready = asyncio.Event()  # connected and said hello; cleared on a drop
        self._waiting: dict[str, asyncio.Future[None]] = {}

    def expect(self, frame_id: str) -> asyncio.Future[None]:
        """A future resolved by the ack of the frame `frame_id`, failed by its error."""
        waiter = self._waiting[frame_id] = asyncio.get_running_loop().create_future()
        waiter.add_done_callback(lambda _: self._waiting.pop(frame_id, None))
        return waiter

    def hello(self, token: str | None = None, topics: Iterable[str] = ()) -> Hello:
        """The first frame on every socket: replay after the resume point (none on a fresh
        start: the hello's ack says where this client begins)."""
        return Hello(token=token, since=self.stream.last_seq, topics=sorted(topics))

    def dropped(self) -> None:
        self.ready.clear()
        self.stream.resumed()  # a resume in flight is superseded by the next hello
        for waiter in list(self._waiting.values()):
            waiter.cancel()

    def receive(self, raw: str | bytes, now: float) -> Reaction:
        try:
            frame = decode_server_frame(raw)
        except msgspec.DecodeError:
            log.warning("ignoring a frame this client does not understand: %.200r", raw)
            return Reaction()
        if isinstance(frame, EventFrame):
            if self.stream.receive(frame) is Verdict.GAP:
                self.resumes += 1
                return Reaction(reply=Resume(since=self.stream.last_seq or 0))
        elif isinstance(frame, SignalFrame):
            self.signals.append(frame.signal)
            return Reaction(signal=frame.signal)
        elif isinstance(frame, Ack):
            self._acknowledged(frame)
        elif isinstance(frame, Resync):
            self.stream.resync(frame.seq)
        elif isinstance(frame, Error):
            self._failed(ServerError(frame.code, frame.message, frame.id))
        elif isinstance(frame, Pong):
            self.last_pong = now
        return Reaction()

    def _acknowledged(self, ack: Ack) -> None:
        if ack.for_ == "hello":
            self.stream.start(ack.seq or 0)
            self.connections += 1
            self.ready.set()
        if ack.for_ == "resume":
            self.stream.resumed()
        if ack.for_ in ("hello", "resume"):
            self.replayed += ack.replayed or 0
        waiter = self._waiting.get(ack.id or "")
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _failed(self, error: ServerError) -> None:
        self.errors.append(error)
        waiter = self._waiting.get(error.id or "")
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
