"""How far back a hello or resume is replayed: every missed event when the socket missed at
most `Limits.max_replay` (2,000) of its workspace's events, `resync` from one more, and the
broker never reads past that bound. Resumes have a rate limit of their own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from realtime.memory_broker import MemoryBroker
from realtime.redis_broker import RedisBroker
from realtime.session import Limits, Session
from tests.realtime.helpers import WS, agent, as_dicts, frame, publish, realtime_server, seqs

BOUND = 2_000  # what the README promises


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def opened(session: Session, via: str, since: int) -> list[dict[str, Any]]:
    """What a socket gets when it asks for the events after `since` with a hello or, once
    connected, with a resume."""
    if via == "hello":
        return as_dicts(await session.handle_text(frame("hello", since=since, topics=["inbox"])))
    await session.handle_text(frame("hello", topics=["inbox"]))
    return as_dicts(await session.handle_text(frame("resume", since=since)))


@pytest.fixture(scope="module")
async def busy() -> AsyncIterator[MemoryBroker]:
    """A workspace with one event more than a socket may be replayed."""
    broker = MemoryBroker()
    await publish(broker, BOUND + 1)
    yield broker
    await broker.close()


@pytest.mark.parametrize("via", ["hello", "resume"])
async def test_a_socket_that_missed_the_bound_gets_every_event(
    busy: MemoryBroker, via: str
) -> None:
    out = await opened(Session(broker=busy, authorizer=agent()), via, since=1)

    assert out[0] == {"type": "ack", "for": via, "seq": BOUND + 1, "replayed": BOUND}
    assert seqs(out) == list(range(2, BOUND + 2))
    assert [f["type"] for f in out[1:]] == ["event"] * BOUND


@pytest.mark.parametrize("via", ["hello", "resume"])
async def test_a_socket_that_missed_one_more_gets_resync(busy: MemoryBroker, via: str) -> None:
    out = await opened(Session(broker=busy, authorizer=agent()), via, since=0)

    assert out == [
        {"type": "ack", "for": via, "seq": BOUND + 1, "replayed": 0},
        {"type": "resync", "seq": BOUND + 1},
    ]


async def test_the_bound_counts_the_workspaces_events_not_the_sockets() -> None:
    broker = MemoryBroker()
    await publish(broker, BOUND, ticket="t1")
    await publish(broker, 1, ticket="t2")
    session = Session(broker=broker, authorizer=agent())

    out = as_dicts(await session.handle_text(frame("hello", since=0, topics=["ticket:t2"])))

    assert out[1:] == [{"type": "resync", "seq": BOUND + 1}]


async def test_the_bound_holds_on_a_real_socket_over_redis(redis_url: str) -> None:
    broker = RedisBroker(redis_url, key_prefix=f"t{uuid.uuid4().hex[:10]}")
    await broker.start()
    await publish(broker, BOUND + 1)
    try:
        async with realtime_server(broker, {"ada": agent()}) as server:
            async with connect(server.url) as within:
                await within.send(frame("hello", token="ada", since=1, topics=["inbox"]))
                got = [await received(within) for _ in range(BOUND + 1)]
            async with connect(server.url) as beyond:
                await beyond.send(frame("hello", token="ada", since=0, topics=["inbox"]))
                late = [await received(beyond) for _ in range(2)]
    finally:
        await broker.close()

    assert got[0] == {"type": "ack", "for": "hello", "seq": BOUND + 1, "replayed": BOUND}
    assert seqs(got) == list(range(2, BOUND + 2))
    assert late == [
        {"type": "ack", "for": "hello", "seq": BOUND + 1, "replayed": 0},
        {"type": "resync", "seq": BOUND + 1},
    ]


async def test_redis_replay_reads_no_entry_past_its_limit(
    redis_url: str, redis_client: aioredis.Redis
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    broker = RedisBroker(redis_url, key_prefix=prefix)
    await broker.start()
    try:
        await publish(broker, 3)
        # A fourth entry no reader could decode: only a read that reaches it can fail.
        await redis_client.xadd(f"{prefix}:{{ws:{WS}}}:log", {"e": b"not an event"}, id="4-0")
        await redis_client.set(f"{prefix}:{{ws:{WS}}}:seq", 4)

        bounded = await broker.replay(WS, 0, 3)
        with pytest.raises(msgspec.DecodeError):
            await broker.replay(WS, 0, 4)
    finally:
        await broker.close()

    assert (bounded.complete, bounded.events, bounded.last_seq) == (False, [], 4)


# Resumes have their own, smaller budget than other frames.


async def test_repeated_resumes_are_rate_limited_then_closed_with_1008() -> None:
    clock = Clock()
    session = Session(broker=MemoryBroker(), authorizer=agent(), clock=clock)
    await session.handle_text(frame("hello", topics=["inbox"]))

    answers = [as_dicts(await session.handle_text(frame("resume", since=0))) for _ in range(16)]

    assert [a[0]["for"] for a in answers[:5]] == ["resume"] * 5  # a burst of 5 is served
    assert [a[0].get("code") for a in answers[5:15]] == ["rate_limited"] * 10  # the strikes
    assert answers[15] == [{"close": 1008}]


async def test_a_client_that_waits_may_resume_again_and_its_other_frames_pass_meanwhile() -> None:
    clock = Clock()
    limits = Limits(resume_burst=1, resumes_per_second=0.1)
    session = Session(broker=MemoryBroker(), authorizer=agent(), clock=clock, limits=limits)
    await session.handle_text(frame("hello", topics=["inbox"]))

    first = as_dicts(await session.handle_text(frame("resume", since=0)))
    too_soon = as_dicts(await session.handle_text(frame("resume", since=0)))
    ping = as_dicts(await session.handle_text(frame("ping", id="p")))
    clock.now += 10.0
    later = as_dicts(await session.handle_text(frame("resume", since=0)))

    assert first[0]["for"] == "resume"
    assert [(f["type"], f["code"]) for f in too_soon] == [("error", "rate_limited")]
    assert ping == [{"type": "pong", "id": "p"}]
    assert later[0]["for"] == "resume"


async def test_a_socket_repeating_resume_is_told_then_closed_with_1008() -> None:
    broker = MemoryBroker()
    limits = Limits(resume_burst=2, strikes=2)
    async with (
        realtime_server(broker, {"ada": agent()}, limits=limits) as server,
        connect(server.url) as client,
    ):
        await client.send(frame("hello", token="ada", topics=["inbox"]))
        await received(client)
        answers: list[dict[str, Any]] = []
        with pytest.raises(ConnectionClosed):
            await resume_until_closed(client, answers)

    assert [a.get("for") for a in answers[:2]] == ["resume", "resume"]
    assert answers[2:]  # told at least once before the close
    assert {(a["type"], a["code"]) for a in answers[2:]} == {("error", "rate_limited")}
    assert (client.close_code, client.close_reason) == (1008, "too many resumes")


async def resume_until_closed(client: ClientConnection, answers: list[dict[str, Any]]) -> None:
    for _ in range(50):
        await client.send(frame("resume", since=0))
        answers.append(await received(client))


async def received(client: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(10):
        frame_: dict[str, Any] = msgspec.json.decode(await client.recv())
    return frame_
