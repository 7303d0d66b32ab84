"""TandemClient over real sockets: against the hub served by uvicorn, and against a scripted
peer for what a correct server never does by itself (losing a frame, ignoring pings)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest
from websockets.asyncio.server import ServerConnection, serve

from realtime.client import ConnectionFailed, ServerError, TandemClient
from realtime.events import Event, Signal
from realtime.frames import Ack, EventFrame, Pong, encode_frame
from realtime.memory_broker import MemoryBroker
from tests.realtime.helpers import WS, RealtimeServer, agent, make_event, publish, realtime_server


class Received:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: Event) -> None:
        self.events.append(event)
        async with self._changed:
            self._changed.notify_all()

    @property
    def seqs(self) -> list[int]:
        return [e.seq for e in self.events]

    async def until(self, check: Callable[[list[int]], bool], seconds: float = 5.0) -> None:
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(lambda: check(self.seqs))


async def eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    # For state with no event to wait on (a client's counters): poll, briefly.
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@pytest.fixture
async def broker() -> AsyncIterator[MemoryBroker]:
    broker = MemoryBroker(log_size=5)
    await broker.start()
    yield broker
    await broker.close()


@pytest.fixture
async def server(broker: MemoryBroker) -> AsyncIterator[RealtimeServer]:
    principals: dict[str, Any] = {"ada": agent("ada"), "bo": agent("bo")}
    async with realtime_server(broker, principals) as running:
        yield running


def client(server: RealtimeServer, token: str = "ada", **kw: Any) -> TandemClient:
    kw.setdefault("backoff", (0.2, 1.0))
    return TandemClient(server.url, token=token, topics=["inbox"], **kw)


async def test_after_a_drop_the_client_gets_exactly_the_missed_events_once(
    broker: MemoryBroker, server: RealtimeServer
) -> None:
    received = Received()
    async with client(server, on_event=received) as ada:
        await publish(broker, 2)
        await received.until(lambda seqs: seqs == [1, 2])

        await server.hub.close(1012, "restarting")  # the server drops every socket
        await publish(broker, 3)  # while the client waits to reconnect
        await received.until(lambda seqs: len(seqs) >= 5)
        await publish(broker, 1)
        await received.until(lambda seqs: len(seqs) >= 6)

        assert received.seqs == [1, 2, 3, 4, 5, 6]
        assert (ada.connections, ada.state.replayed, ada.last_seq) == (2, 3, 6)


async def test_a_log_that_lost_the_missed_events_makes_the_client_refetch(
    broker: MemoryBroker, server: RealtimeServer
) -> None:
    received = Received()
    refetches: list[int] = []

    async def on_resync() -> int:
        # The app refetches over HTTP; a write lands meanwhile and is already in that state.
        await publish(broker, 1)
        watermark = await broker.last_seq(WS)
        await asyncio.sleep(0.1)  # its live copy arrives while the refetch is still going
        refetches.append(watermark)
        return watermark

    async with client(server, on_event=received, on_resync=on_resync) as ada:
        await publish(broker, 1)
        await received.until(lambda seqs: seqs == [1])
        await server.hub.close(1012, "restarting")
        await publish(broker, 8)  # more than the log keeps
        await eventually(lambda: bool(refetches))
        await publish(broker, 1)
        await received.until(lambda seqs: len(seqs) >= 2)

        assert refetches == [10]
        assert received.seqs == [1, 11]
        assert ada.stream.resyncs == 1
        assert ada.last_seq == 11


async def test_consistent_start_applies_only_events_newer_than_the_fetched_state(
    broker: MemoryBroker, server: RealtimeServer
) -> None:
    async def fetch() -> tuple[str, int]:
        await publish(broker, 1)  # already in the state read below
        watermark = await broker.last_seq(WS)
        state = f"state at {watermark}"
        await publish(broker, 1)  # after the read: must be applied
        await asyncio.sleep(0.1)  # both arrive while the fetch is in progress
        return state, watermark

    async with client(server) as ada:
        state = await ada.consistent_start(fetch)
        await publish(broker, 1)
        first, second = await anext(ada), await anext(ada)

    assert state == "state at 1"
    assert [first.seq, second.seq] == [2, 3]


async def test_signals_from_another_agent_arrive_and_errors_are_typed(
    server: RealtimeServer,
) -> None:
    seen: list[Signal] = []

    async def on_signal(signal: Signal) -> None:
        seen.append(signal)

    server.principals["bo"].forbidden.add("team:vip")  # type: ignore[attr-defined]
    async with client(server, "ada") as ada, client(server, "bo", on_signal=on_signal) as bo:
        await ada.typing("t1", True)
        await eventually(lambda: bool(seen))
        with pytest.raises(ServerError) as refused:
            await bo.subscribe("team:vip")

    assert (seen[0].type, seen[0].data.user, seen[0].data.on) == ("typing", "ada", True)
    assert list(bo.signals) == seen
    assert refused.value.code == "forbidden"
    assert "team:vip" not in bo.topics


async def test_a_refused_token_fails_without_retrying(server: RealtimeServer) -> None:
    forged = client(server, "forged")

    with pytest.raises(ConnectionFailed) as failed:
        await forged.start()
    await forged.close()

    assert failed.value.code == 1008
    assert forged.connections == 0


Script = Callable[[ServerConnection], Awaitable[None]]


async def scripted(script: Script) -> tuple[str, Any]:
    peer = await serve(script, "127.0.0.1", 0)
    port = peer.sockets[0].getsockname()[1]
    return f"ws://127.0.0.1:{port}", peer


def event_text(seq: int, prev: int) -> str:
    event = msgspec.structs.replace(make_event(seq), seq=seq)
    return encode_frame(EventFrame(event, prev=prev))


async def test_a_gap_is_noticed_and_resumed_from_the_last_seq() -> None:
    resumes: list[dict[str, Any]] = []

    async def script(ws: ServerConnection) -> None:
        await ws.recv()  # hello
        await ws.send(encode_frame(Ack("hello", seq=0, replayed=0)))
        await ws.send(event_text(1, prev=0))
        await ws.send(event_text(3, prev=2))  # 2 went missing
        await ws.send(event_text(4, prev=3))  # the same gap; one resume is enough
        resumes.append(msgspec.json.decode(await ws.recv()))
        await ws.send(encode_frame(Ack("resume", seq=4, replayed=3)))
        for seq in (2, 3, 4, 5):
            await ws.send(event_text(seq, prev=seq - 1))
        await ws.send(event_text(5, prev=4))  # a duplicate
        await ws.wait_closed()

    url, peer = await scripted(script)
    received = Received()
    async with peer, TandemClient(url, on_event=received) as tandem:
        await received.until(lambda seqs: len(seqs) >= 5)
        await asyncio.sleep(0.05)

        assert received.seqs == [1, 2, 3, 4, 5]
        assert resumes == [{"type": "resume", "since": 1}]
        assert (tandem.state.resumes, tandem.stream.duplicates) == (1, 1)


async def test_a_server_that_stops_answering_pings_is_replaced() -> None:
    connections: list[ServerConnection] = []

    async def script(ws: ServerConnection) -> None:
        connections.append(ws)
        await ws.recv()
        await ws.send(encode_frame(Ack("hello", seq=0)))
        if len(connections) > 1:
            async for raw in ws:  # the second server answers
                await ws.send(encode_frame(Pong(msgspec.json.decode(raw).get("id"))))
        await ws.wait_closed()

    url, peer = await scripted(script)
    async with peer, TandemClient(url, ping_interval=0.05, ping_timeout=0.1) as tandem:
        await eventually(lambda: tandem.connections == 2)
        await asyncio.sleep(0.5)

        assert tandem.connections == 2
