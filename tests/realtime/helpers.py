"""Shared by the realtime tests: principals, events, sockets in memory, and a real server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from realtime.access import Authorizer
from realtime.broker import Broker
from realtime.events import (
    Actor,
    Event,
    MessageCreated,
    Signal,
    VisitorEvent,
    for_visitor,
    signal_for_visitor,
)
from realtime.frames import encode_frame
from realtime.hub import Hub
from realtime.presence import CollisionStore, PresenceStore
from realtime.session import Close, Limits, Outgoing, Session
from tests.events import message_event
from tests.local_server import serving_in_this_loop

WS = "ws-1"
BO = Actor(kind="agent", id="agent-9", name="Bo")


@dataclass
class Principal:
    """An Authorizer as the app would build it: agents see the whole workspace; a widget
    visitor sees only its own conversation, and never an agent's private note."""

    workspace_id: str
    user_id: str
    display_name: str = "Ada"
    visitor_ticket: str | None = None
    forbidden: set[str] = field(default_factory=set)
    credential: str | None = None

    async def can_subscribe(self, topic: str) -> str | None:
        if topic in self.forbidden:
            return "forbidden"
        if self.visitor_ticket is not None and topic != f"ticket:{self.visitor_ticket}":
            return "forbidden"
        return None

    def view(self, event: Event) -> Event | VisitorEvent | None:
        if self.visitor_ticket is None:
            return event
        return for_visitor(event) if event.ticket == self.visitor_ticket else None

    def view_signal(self, signal: Signal) -> Signal | None:
        if self.visitor_ticket is None:
            return signal
        return signal_for_visitor(signal) if signal.ticket == self.visitor_ticket else None


def agent(user_id: str = "agent-1", ws: str = WS) -> Principal:
    return Principal(ws, user_id, display_name=user_id.title())


def visitor(ticket: str, ws: str = WS) -> Principal:
    return Principal(ws, f"visitor-{ticket}", display_name="Visitor", visitor_ticket=ticket)


def make_event(
    n: int = 0, *, ws: str = WS, ticket: str = "t1", private: bool = False
) -> MessageCreated:
    return message_event(n, ws=ws, ticket=ticket, private=private, actor=BO)


async def publish(broker: Broker, count: int, **kw: Any) -> list[Event]:
    published = [await broker.publish(make_event(n, **kw)) for n in range(count)]
    return [e for e in published if e is not None]


def frame(kind: str, **fields: Any) -> str:
    return msgspec.json.encode({"type": kind, **fields}).decode()


def as_dicts(outgoing: Iterable[Outgoing]) -> list[dict[str, Any]]:
    """Frames as the client will see them on the wire; a Close as {"close": code}."""
    result: list[dict[str, Any]] = []
    for item in outgoing:
        if isinstance(item, Close):
            result.append({"close": item.code})
        else:
            result.append(msgspec.json.decode(encode_frame(item)))
    return result


def seqs(frames: Iterable[dict[str, Any]]) -> list[int]:
    return [f["event"]["seq"] for f in frames if f.get("type") == "event"]


class StorePresence:
    """The app's PresenceSink: the Redis stores of realtime/presence.py."""

    def __init__(self, presence: PresenceStore, collisions: CollisionStore) -> None:
        self.presence = presence
        self.collisions = collisions

    async def set_presence(
        self, ws: str, user_id: str, conn_id: str, state: Literal["online", "away"], ttl: float
    ) -> None:
        await self.presence.heartbeat(ws, user_id, conn_id, state, ttl)

    async def set_viewing(
        self, ws: str, ticket_id: str, user_id: str, on: bool, ttl: float
    ) -> None:
        await self.collisions.set_viewing(ws, ticket_id, user_id, on, ttl)

    async def set_typing(self, ws: str, ticket_id: str, user_id: str, on: bool, ttl: float) -> None:
        await self.collisions.set_typing(ws, ticket_id, user_id, on, ttl)

    async def disconnect(self, ws: str, user_id: str, conn_id: str) -> None:
        await self.presence.disconnect(ws, user_id, conn_id)


class MemorySocket:
    """One end of a WebSocket held in memory, as the hub sees it. `stall()` makes sends block
    like a client that stopped reading with full TCP buffers."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[str] = []
        self.closed: tuple[int, str | None] | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._changed = asyncio.Condition()

    def stall(self) -> None:
        self._flowing.clear()

    def type(self, text: str) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": text})

    def send_binary(self, data: bytes) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "bytes": data})

    def hang_up(self) -> None:
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": 1001})

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def send_text(self, data: str) -> None:
        await self._flowing.wait()
        self.sent.append(data)
        async with self._changed:
            self._changed.notify_all()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason)
        async with self._changed:
            self._changed.notify_all()

    def frames(self) -> list[dict[str, Any]]:
        return [msgspec.json.decode(text) for text in self.sent]

    async def until(self, check: Callable[[MemorySocket], bool], seconds: float = 5.0) -> None:
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(lambda: check(self))


@dataclass
class RealtimeServer:
    url: str
    hub: Hub
    principals: dict[str, Authorizer]


@contextlib.asynccontextmanager
async def realtime_server(
    broker: Broker, principals: dict[str, Authorizer], *, limits: Limits | None = None
) -> AsyncIterator[RealtimeServer]:
    """A real Starlette app served by uvicorn on a free loopback port, its WebSocket route
    wired the way the app wires it: token in hello, Hub + Session on the given broker."""
    hub = Hub(broker, close_timeout=1.0)

    async def authenticate(token: str) -> Authorizer | None:
        return principals.get(token)

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        session = Session(broker=broker, authenticate=authenticate, limits=limits)
        await hub.serve(websocket, session)

    app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
    async with serving_in_this_loop(app) as base:
        try:
            yield RealtimeServer(f"{base}/ws", hub, principals)
        finally:
            await hub.close()
