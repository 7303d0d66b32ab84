"""The Python client of Tandem's realtime protocol, for tests, the benchmark and scripts; the
browser app follows the same steps.

    async with TandemClient(url, token=token, topics=["inbox"]) as client:
        state = await client.consistent_start(fetch_state)   # subscribe first, then fetch
        async for event in client:                            # in seq order, each once
            ...

It reconnects after a drop with jittered exponential backoff and says hello with the last seq
it received, so the server replays what was missed (or says resync, and `on_resync` refetches
state). Heartbeat: a `ping` every `ping_interval`; no `pong` within `ping_timeout` means the
connection is dead and is replaced. Ordering rules are in realtime/stream.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.typing import Origin

from realtime.client_state import ClientState, ConnectionFailed, ServerError
from realtime.events import Event, Signal
from realtime.frames import (
    ClientFrame,
    Ping,
    Presence,
    PresenceState,
    Subscribe,
    Typing,
    Unsubscribe,
    Viewing,
    encode_frame,
)
from realtime.stream import OnResync

log = logging.getLogger(__name__)
S = TypeVar("S")
FATAL_CLOSE_CODES = frozenset({1008, 1009})  # reconnecting would only be refused again


class TandemClient:
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        cookies: dict[str, str] | None = None,
        origin: str | None = None,
        topics: Iterable[str] = (),
        since: int | None = None,
        on_event: Callable[[Event], Awaitable[None]] | None = None,
        on_resync: OnResync | None = None,
        on_signal: Callable[[Signal], Awaitable[None]] | None = None,
        ping_interval: float = 25.0,
        ping_timeout: float = 10.0,
        backoff: tuple[float, float] = (0.2, 10.0),
        request_timeout: float = 10.0,
    ) -> None:
        self.url, self.token, self.origin = url, token, origin
        self.cookies = dict(cookies or {})
        self.topics = set(topics)
        self.state = ClientState(since, on_resync)
        self.stream, self.ready = self.state.stream, self.state.ready
        self.failure: ConnectionFailed | None = None
        self._on_event, self._on_signal = on_event, on_signal
        self._ping_interval, self._ping_timeout = ping_interval, ping_timeout
        self._backoff, self._request_timeout = backoff, request_timeout
        self._ws: ClientConnection | None = None
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    @property
    def last_seq(self) -> int | None:
        """The resume point: every event up to it was received."""
        return self.stream.last_seq

    @property
    def signals(self) -> deque[Signal]:
        return self.state.signals

    @property
    def errors(self) -> deque[ServerError]:
        return self.state.errors

    @property
    def connections(self) -> int:
        return self.state.connections

    async def start(self) -> None:
        """Connect; returns after the first hello was acknowledged."""
        self._tasks.append(asyncio.create_task(self._run()))
        if self._on_event is not None:
            self._tasks.append(asyncio.create_task(self._dispatch(self._on_event)))
        await self.wait_ready()

    async def wait_ready(self) -> None:
        """Until connected and acknowledged; raises `ConnectionFailed` if refused for good."""
        if not self._tasks:
            raise RuntimeError("start() the client first")
        ready = asyncio.ensure_future(self.ready.wait())
        try:
            await asyncio.wait([self._tasks[0], ready], return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
        if self.failure is not None:
            raise self.failure
        if not self.ready.is_set():
            raise RuntimeError("the client was closed")

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.stream.end()

    async def __aenter__(self) -> TandemClient:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __aiter__(self) -> TandemClient:
        return self

    async def __anext__(self) -> Event:
        return await self.stream.next()

    async def consistent_start(self, fetch: Callable[[], Awaitable[tuple[S, int]]]) -> S:
        """Subscribed first (the hello's topics), then `fetch` reads state over HTTP and says
        the seq it was read at; events that arrived meanwhile are applied only if newer."""
        await self.wait_ready()
        self.stream.hold()
        watermark = 0
        try:
            state, watermark = await fetch()
            return state
        finally:
            self.stream.release(watermark)

    async def subscribe(self, topic: str) -> None:
        if self._ws is not None and self.ready.is_set():
            await self._request(lambda id: Subscribe(topic=topic, id=id))
        self.topics.add(topic)  # and on every reconnect's hello

    async def unsubscribe(self, topic: str) -> None:
        self.topics.discard(topic)
        if self._ws is not None and self.ready.is_set():
            await self._request(lambda id: Unsubscribe(topic=topic, id=id))

    async def typing(self, ticket: str, on: bool) -> None:
        await self._send_if_connected(Typing(ticket=ticket, on=on))

    async def viewing(self, ticket: str, on: bool) -> None:
        await self._send_if_connected(Viewing(ticket=ticket, on=on))

    async def presence(self, state: PresenceState) -> None:
        await self._send_if_connected(Presence(state=state))

    async def _send_if_connected(self, frame: ClientFrame) -> None:
        # Signals are ephemeral: one sent while disconnected would be stale when it arrived.
        if self._ws is not None and self.ready.is_set():
            with contextlib.suppress(WebSocketException):
                await self._ws.send(encode_frame(frame))

    async def _request(self, make: Callable[[str], ClientFrame]) -> None:
        assert self._ws is not None
        frame_id = str(next(self._ids))
        waiter = self.state.expect(frame_id)
        try:
            await self._ws.send(encode_frame(make(frame_id)))
            async with asyncio.timeout(self._request_timeout):
                await waiter
        finally:
            waiter.cancel()

    async def _dispatch(self, on_event: Callable[[Event], Awaitable[None]]) -> None:
        async for event in self:
            try:
                await on_event(event)
            except Exception:
                log.exception("on_event failed on event %s", event.seq)

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            hellos = self.state.connections
            try:
                await self._connection()
            except ConnectionFailed as exc:
                self.failure = exc
            except InvalidStatus as exc:
                status = exc.response.status_code
                if 400 <= status < 500 and status != 429:
                    self.failure = ConnectionFailed(status, "handshake refused")
            except (OSError, TimeoutError, WebSocketException) as exc:
                log.info("realtime connection to %s lost: %r", self.url, exc)
            if self.failure is not None:
                self.stream.end(self.failure)
                return
            if self.state.connections > hellos:
                attempt = 0  # it was up: this is a new outage, not more of the last one
            low, high = self._backoff
            # Jittered, so clients dropped together by a restart do not return in step.
            await asyncio.sleep(min(high, low * 2**attempt) * random.uniform(0.5, 1.0))
            attempt += 1

    async def _connection(self) -> None:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        async with connect(
            self.url,
            origin=Origin(self.origin) if self.origin else None,
            additional_headers=headers if self.cookies else None,
            ping_interval=None,  # the protocol's own ping, as browsers do
            compression=None,  # small frames; deflate would cost memory on every socket
            proxy=None,
        ) as ws:
            self._ws = ws
            await ws.send(encode_frame(self.state.hello(self.token, self.topics)))
            heartbeat = asyncio.create_task(self._heartbeat(ws))
            try:
                async for raw in ws:
                    reply, signal = self.state.receive(raw, asyncio.get_running_loop().time())
                    if reply is not None:
                        await ws.send(encode_frame(reply))
                    if signal is not None and self._on_signal is not None:
                        try:
                            await self._on_signal(signal)
                        except Exception:
                            log.exception("on_signal failed on %r", signal)
            except ConnectionClosed:
                pass  # how it closed decides below
            finally:
                heartbeat.cancel()
                self._ws = None
                self.state.dropped()
            code = ws.close_code
            if code in FATAL_CLOSE_CODES and not self._closing:
                raise ConnectionFailed(code or 0, ws.close_reason or "")
            log.info("realtime connection to %s closed with %s", self.url, code)

    async def _heartbeat(self, ws: ClientConnection) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionClosed):  # the reader notices that on its own
            while True:
                await asyncio.sleep(self._ping_interval * random.uniform(0.8, 1.0))
                sent_at = loop.time()
                await ws.send(encode_frame(Ping(id="heartbeat")))
                await asyncio.sleep(self._ping_timeout)
                if self.state.last_pong < sent_at:
                    log.info("no pong from %s in %ss; reconnecting", self.url, self._ping_timeout)
                    await ws.close(1001, "no pong")
                    return
