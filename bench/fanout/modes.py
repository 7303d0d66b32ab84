"""What differs between measuring the floor and measuring Tandem: how a socket subscribes, how
a received frame maps to the change it carries, and how the writer makes a change.

A change is identified by an integer key: the floor's broadcast number, or the ticket version
the change produced (the `ticket.updated` event carries the updated ticket).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

import httpx
import msgspec

from bench.fanout.tandem_api import AgentSession, socket_token, ticket_version
from bench.fanout.wsclient import WsClient, connect

# What the Tandem writer toggles: the field and its two values. Up to commit ec77206 a status
# change also wrote a system line to the thread ("… set the status to pending"), with its own
# message and ticket events; only the event whose `changed` names the field is the change.
CHANGES: dict[str, tuple[str, str, str]] = {
    "priority": ("priority", "normal", "high"),
    "status": ("status", "open", "pending"),
}
HEARTBEAT_SECONDS = 25.0  # Tandem's hub closes a socket that sent nothing for 75 s
TOKEN_REUSE_SECONDS = 30.0  # socket tokens live 60 s; they are checked only at connect


class SetupFrames:
    """Frames that are not changes, handed to whoever is waiting for an acknowledgement."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=64)
        self.dropped = 0

    def put(self, payload: bytes) -> None:
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.dropped += 1

    async def expect(self, is_it: Callable[[dict[str, object]], bool], wait_s: float) -> None:
        async with asyncio.timeout(wait_s):
            while True:
                frame = msgspec.json.decode(await self.queue.get())
                if isinstance(frame, dict) and frame.get("type") == "error":
                    raise RuntimeError(f"server error frame: {frame}")
                if isinstance(frame, dict) and is_it(frame):
                    return


class Mode(Protocol):
    name: str

    def key_of(self, payload: bytes) -> int | None: ...

    async def open(
        self, url: str, on_message: Callable[[bytes, float], None], wait_s: float
    ) -> WsClient: ...

    async def subscribe(self, client: WsClient, setup: SetupFrames, wait_s: float) -> None: ...

    def heartbeat(self, client: WsClient, now: float) -> None: ...

    async def start_writer(self) -> None: ...

    async def write(self, register: Callable[[int, float], None]) -> tuple[int, float]:
        """Make one change; `register(key, t0)` is called just before the request starts.
        Returns the key and how long the write request took (seconds)."""
        ...

    async def close(self) -> None: ...


def _split(url: str) -> tuple[str, int]:
    parts = httpx.URL(url)
    assert parts.host == "127.0.0.1", "the benchmark talks to loopback only"
    return parts.host, int(parts.port or 80)


class _FloorFrame(msgspec.Struct):
    type: str
    n: int = -1


class FloorMode:
    """The write is a text frame on each floor process's /control socket, which broadcasts it."""

    name = "floor"

    def __init__(self, urls: list[str], payload_bytes: int) -> None:
        self.urls = urls
        self.payload_bytes = payload_bytes
        self.controls: list[WsClient] = []
        self.next_key = 1
        self._decoder = msgspec.json.Decoder(_FloorFrame)

    def key_of(self, payload: bytes) -> int | None:
        frame = self._decoder.decode(payload)
        return frame.n if frame.type == "event" else None

    def payload(self, key: int) -> bytes:
        bare = b'{"type":"event","n":%d,"pad":""}' % key
        pad = max(0, self.payload_bytes - len(bare))
        return b'{"type":"event","n":%d,"pad":"%s"}' % (key, b"x" * pad)

    async def open(
        self, url: str, on_message: Callable[[bytes, float], None], wait_s: float
    ) -> WsClient:
        host, port = _split(url)
        return await connect(host, port, "/", on_message, clock=time.monotonic, wait_s=wait_s)

    async def subscribe(self, client: WsClient, setup: SetupFrames, wait_s: float) -> None:
        await setup.expect(lambda f: f.get("for") == "subscribe", wait_s)

    def heartbeat(self, client: WsClient, now: float) -> None:
        pass  # the floor never closes idle sockets; websockets' own pings are answered

    async def start_writer(self) -> None:
        for url in self.urls:
            host, port = _split(url)
            self.controls.append(
                await connect(host, port, "/control", _ignore, clock=time.monotonic, wait_s=10)
            )

    async def write(self, register: Callable[[int, float], None]) -> tuple[int, float]:
        key = self.next_key
        self.next_key += 1
        payload = self.payload(key)
        t0 = time.monotonic()
        register(key, t0)
        for control in self.controls:
            control.send_text(payload)
        return key, time.monotonic() - t0

    async def close(self) -> None:
        for control in self.controls:
            control.close()


def _ignore(payload: bytes, at: float) -> None:
    pass


class _Ticket(msgspec.Struct):
    version: int = -1


class _Data(msgspec.Struct):
    ticket: _Ticket | None = None
    changed: list[str] = []


class _Event(msgspec.Struct):
    type: str = ""
    ticket: str | None = None
    data: _Data | None = None


class _TandemFrame(msgspec.Struct):
    type: str
    event: _Event | None = None


class TandemMode:
    """Sockets on /live subscribed to the inbox; the writer PATCHes one ticket's priority or
    status (see CHANGES). A change's frame is the `ticket.updated` event whose `changed` names
    that field; other events the change causes are not counted as deliveries."""

    name = "tandem"

    def __init__(self, urls: list[str], agent: AgentSession, change: str = "priority") -> None:
        self.urls = urls
        self.agent = agent
        self.field, first, second = CHANGES[change]
        self.values = (first, second)
        self.http = agent.client()
        self._token: tuple[str, float] | None = None
        self._token_lock = asyncio.Lock()
        self._decoder = msgspec.json.Decoder(_TandemFrame)
        self.version = 0
        self.value = self.values[0]
        self.conflicts = 0

    def key_of(self, payload: bytes) -> int | None:
        try:
            frame = self._decoder.decode(payload)
        except msgspec.ValidationError:
            return None  # another event type whose data.ticket is not a ticket object
        event = frame.event
        if (
            frame.type != "event"
            or event is None
            or event.type != "ticket.updated"
            or event.ticket != self.agent.ticket_id
            or event.data is None
            or event.data.ticket is None
            or self.field not in event.data.changed
        ):
            return None
        return event.data.ticket.version

    async def _socket_token(self) -> str:
        async with self._token_lock:
            now = time.monotonic()
            if self._token is None or now - self._token[1] > TOKEN_REUSE_SECONDS:
                self._token = (await socket_token(self.http), now)
            return self._token[0]

    async def open(
        self, url: str, on_message: Callable[[bytes, float], None], wait_s: float
    ) -> WsClient:
        host, port = _split(url)
        path = "/live?token=" + await self._socket_token()
        return await connect(host, port, path, on_message, clock=time.monotonic, wait_s=wait_s)

    async def subscribe(self, client: WsClient, setup: SetupFrames, wait_s: float) -> None:
        client.send_text(b'{"type":"hello"}')
        await setup.expect(lambda f: f.get("type") == "ack" and f.get("for") == "hello", wait_s)
        client.send_text(b'{"type":"subscribe","topic":"inbox","id":"s1"}')
        await setup.expect(lambda f: f.get("type") == "ack" and f.get("for") == "subscribe", wait_s)

    def heartbeat(self, client: WsClient, now: float) -> None:
        if now - client.last_sent > HEARTBEAT_SECONDS:
            client.send_text(b'{"type":"ping"}')

    async def start_writer(self) -> None:
        self.version, self.value = await ticket_version(self.http, self.agent.ticket_id, self.field)

    async def write(self, register: Callable[[int, float], None]) -> tuple[int, float]:
        for _ in range(5):  # only a concurrent writer makes a version stale; there is none
            value = self.values[1] if self.value != self.values[1] else self.values[0]
            key = self.version + 1
            t0 = time.monotonic()
            register(key, t0)
            answer = await self.http.patch(
                f"/tickets/{self.agent.ticket_id}",
                json={"version": self.version, self.field: value},
            )
            took = time.monotonic() - t0
            if answer.status_code == 409:
                self.conflicts += 1
                current = answer.json()["error"]["details"]["current"]
                self.version, self.value = int(current["version"]), current[self.field]
                continue
            answer.raise_for_status()
            ticket = answer.json()
            self.version, self.value = int(ticket["version"]), ticket[self.field]
            if self.version != key:
                raise RuntimeError(f"expected version {key}, the server answered {self.version}")
            return key, took
        raise RuntimeError("five stale-version answers in a row")

    async def close(self) -> None:
        await self.http.aclose()
