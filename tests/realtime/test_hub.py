"""The hub with sockets held in memory: fan-out, slow consumers, and the connection's life."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from realtime.access import Authorizer
from realtime.broker import Broker
from realtime.hub import Hub
from realtime.memory_broker import MemoryBroker
from realtime.redis_broker import RedisBroker
from realtime.session import Close, Limits, Session
from tests.realtime.helpers import WS, MemorySocket, agent, frame, make_event, publish


@pytest.fixture
async def broker() -> AsyncIterator[MemoryBroker]:
    broker = MemoryBroker()
    await broker.start()
    yield broker
    await broker.close()


class Line:
    """One client connected to a hub, and the task serving it."""

    def __init__(self, hub: Hub, broker: Broker, principal: Authorizer, **kw: Any) -> None:
        self.socket = MemorySocket()
        self.session = Session(broker=broker, authorizer=principal, **kw)
        self.task: asyncio.Task[Close | None] = asyncio.create_task(
            hub.serve(self.socket, self.session)
        )

    async def hello(self, **fields: Any) -> None:
        self.socket.type(frame("hello", topics=["inbox"], **fields))
        await self.socket.until(lambda s: any(f["type"] == "ack" for f in s.frames()))

    def seqs(self) -> list[int]:
        return [f["event"]["seq"] for f in self.socket.frames() if f["type"] == "event"]

    async def until_seq(self, seq: int, seconds: float = 5.0) -> None:
        await self.socket.until(lambda s: seq in self.seqs(), seconds)

    async def ended(self) -> Close | None:
        async with asyncio.timeout(5):
            return await self.task


async def test_a_slow_socket_is_closed_while_a_fast_one_gets_every_event_promptly(
    broker: MemoryBroker,
) -> None:
    hub = Hub(broker, queue_size=8)
    fast, slow = Line(hub, broker, agent("fast")), Line(hub, broker, agent("slow"))
    await fast.hello()
    await slow.hello()
    slow.socket.stall()  # stopped reading: every send blocks

    started = time.monotonic()
    for n in range(50):
        await broker.publish(make_event(n))
        await asyncio.sleep(0)  # events come from requests, not all in one tick
    await fast.until_seq(50, seconds=1.0)
    elapsed = time.monotonic() - started

    assert fast.seqs() == list(range(1, 51))
    assert elapsed < 1.0
    assert await slow.ended() == Close(1013, "slow consumer: resume from seq 0")
    assert slow.socket.closed == (1013, "slow consumer: resume from seq 0")
    assert hub.count(WS) == 1


async def test_the_slow_consumer_close_names_the_seq_to_resume_from(broker: MemoryBroker) -> None:
    hub = Hub(broker, queue_size=4)
    line = Line(hub, broker, agent())
    await line.hello()
    await publish(broker, 3)
    await line.until_seq(3)

    line.socket.stall()
    await publish(broker, 10)

    assert await line.ended() == Close(1013, "slow consumer: resume from seq 3")


async def test_events_go_only_to_sockets_of_their_workspace(broker: MemoryBroker) -> None:
    hub = Hub(broker)
    here, elsewhere = Line(hub, broker, agent()), Line(hub, broker, agent(ws="ws-2"))
    await here.hello()
    await elsewhere.hello()

    await publish(broker, 2, ws="ws-2")
    await publish(broker, 1)
    await elsewhere.until_seq(2)
    await here.until_seq(1)

    assert here.seqs() == [1]
    assert [f["event"]["ws"] for f in elsewhere.socket.frames() if f["type"] == "event"] == [
        "ws-2",
        "ws-2",
    ]
    assert (hub.count(WS), hub.count("ws-2"), hub.count()) == (1, 1, 2)


async def test_a_hang_up_unregisters_the_socket_and_withdraws_its_viewing(
    broker: MemoryBroker,
) -> None:
    hub = Hub(broker)
    ada, bo = Line(hub, broker, agent("ada")), Line(hub, broker, agent("bo"))
    await ada.hello()
    await bo.hello()
    ada.socket.type(frame("viewing", ticket="t1", on=True))
    await bo.socket.until(lambda s: any(f["type"] == "signal" for f in s.frames()))

    ada.socket.hang_up()

    assert await ada.ended() is None
    await bo.socket.until(lambda s: len([f for f in s.frames() if f["type"] == "signal"]) == 2)
    signals = [f["signal"] for f in bo.socket.frames() if f["type"] == "signal"]
    assert [(s["data"]["user"], s["data"]["on"]) for s in signals] == [
        ("ada", True),
        ("ada", False),
    ]
    assert hub.count() == 1
    assert ada.socket.closed is None  # nothing to close: the client already went


async def test_a_flooding_client_is_told_then_closed_with_1008(broker: MemoryBroker) -> None:
    hub = Hub(broker)
    line = Line(hub, broker, agent(), limits=Limits(frame_burst=3, strikes=1))
    await line.hello()

    for _ in range(10):
        line.socket.type(frame("ping"))

    assert await line.ended() == Close(1008, "too many frames")
    kinds = [f["type"] for f in line.socket.frames()]
    assert kinds == ["ack", "pong", "pong", "error"]
    assert line.socket.closed == (1008, "too many frames")


async def test_an_oversize_frame_is_answered_then_closed_with_1009(broker: MemoryBroker) -> None:
    hub = Hub(broker)
    line = Line(hub, broker, agent(), limits=Limits(max_frame_bytes=100))

    line.socket.type(frame("hello", token="x" * 200))

    assert await line.ended() == Close(1009, "frame too large")
    assert [f.get("code") for f in line.socket.frames()] == ["too_large"]


async def test_a_socket_without_hello_or_heartbeat_is_closed(broker: MemoryBroker) -> None:
    hub = Hub(broker, hello_timeout=0.05, idle_timeout=0.1)
    mute, idle = Line(hub, broker, agent()), Line(hub, broker, agent())
    await idle.hello()

    assert await mute.ended() == Close(1008, "no hello")
    assert await idle.ended() == Close(1001, "no frame for 0.1s")
    assert hub.count() == 0


async def test_shutdown_closes_every_socket_with_1001(broker: MemoryBroker) -> None:
    hub = Hub(broker)
    lines = [Line(hub, broker, agent()) for _ in range(3)]
    for line in lines:
        await line.hello()

    await hub.close()

    assert [line.socket.closed for line in lines] == [(1001, "server shutting down")] * 3
    assert hub.count() == 0


@pytest.fixture
async def redis_broker(redis_url: str) -> AsyncIterator[RedisBroker]:
    broker = RedisBroker(redis_url, key_prefix=f"t{uuid.uuid4().hex[:10]}")
    await broker.start()
    yield broker
    await broker.close()


async def test_sockets_joining_while_events_pour_in_get_each_once_in_order(
    redis_broker: RedisBroker,
) -> None:
    # Over real Redis the replay read and the live pub/sub really interleave: each socket
    # starts from seq 0 while the publisher is somewhere in the middle.
    hub = Hub(redis_broker, queue_size=1000)
    total = 300

    async def publisher() -> None:
        for n in range(total):
            await redis_broker.publish(make_event(n))

    publishing = asyncio.create_task(publisher())
    lines: list[Line] = []
    while not publishing.done():
        lines.append(Line(hub, redis_broker, agent()))
        lines[-1].socket.type(frame("hello", since=0, topics=["inbox"]))
        await asyncio.sleep(0.003)
    for line in lines:
        await line.until_seq(total)

    assert len(lines) > 3
    for line in lines:
        events = [f for f in line.socket.frames() if f["type"] == "event"]
        assert [f["event"]["seq"] for f in events] == list(range(1, total + 1))
        assert [f["prev"] for f in events] == list(range(total))


async def test_sockets_resync_when_the_broker_lost_their_events(
    redis_broker: RedisBroker, redis_client: aioredis.Redis
) -> None:
    hub = Hub(redis_broker)
    line = Line(hub, redis_broker, agent())
    await line.hello()
    await publish(redis_broker, 3)
    await line.until_seq(3)

    # Redis was flushed under the running app, and the pub/sub connection dropped with it.
    prefix = redis_broker.client_name.rsplit("-sub-", 1)[0]
    await redis_client.delete(f"{prefix}:{{ws:{WS}}}:seq", f"{prefix}:{{ws:{WS}}}:log")
    clients = await redis_client.client_list(_type="pubsub")
    for client in clients:
        if client["name"] == redis_broker.client_name:
            await redis_client.client_kill_filter(_id=client["id"])
    await line.socket.until(lambda s: any(f["type"] == "resync" for f in s.frames()))
    await publish(redis_broker, 1)
    await line.socket.until(lambda s: line.seqs() == [1, 2, 3, 1])

    tail = line.socket.frames()[-2:]
    assert tail[0] == {"type": "resync", "seq": 0}
    assert (tail[1]["event"]["seq"], tail[1]["prev"]) == (1, 0)
