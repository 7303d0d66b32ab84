"""Frames the protocol cannot take: each is answered with its documented error frame (the
connection goes on) or closed with a proper code; never dropped without a close frame (1006),
never a server error (1011). Checked on the session, the hub, and a real socket."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect

from realtime.broker import Broker
from realtime.frames import MAX_SEQ
from realtime.hub import Hub
from realtime.memory_broker import MemoryBroker
from realtime.redis_broker import RedisBroker
from realtime.session import Close, Session
from tests.realtime.helpers import MemorySocket, agent, as_dicts, frame, realtime_server

NESTED = "[" * 5000 + "]" * 5000

# (frame text, the error code it gets) for frames that leave the connection open.
ANSWERED = [
    pytest.param('{"type":"ping","id":1e999}', "bad_frame", id="number-beyond-float"),
    pytest.param('{"type":"resume","since":1e999}', "bad_frame", id="since-beyond-float"),
    pytest.param('{"type":"ping","x":' + NESTED + "}", "bad_frame", id="nested-5000-in-object"),
    pytest.param(NESTED, "bad_frame", id="nested-5000"),
    pytest.param('{"type":"ping"}garbage', "bad_frame", id="object-then-garbage"),
    pytest.param('{"type":"ping"} {"type":"ping"}', "bad_frame", id="two-objects"),
    pytest.param("", "bad_frame", id="empty"),
    pytest.param('{"type":"resume","since":1e40}', "invalid_field", id="since-1e40"),
    pytest.param(frame("resume", since=10**40), "invalid_field", id="since-10**40"),
    pytest.param(frame("resume", since=MAX_SEQ + 1), "invalid_field", id="since-2**53"),
    pytest.param(frame("resume", since=-1), "invalid_field", id="since-negative"),
]

BAD_HELLOS = [
    pytest.param(frame("hello", token="ada", since=10**40), id="since-10**40"),
    pytest.param('{"type":"hello","token":"ada","since":1e40}', id="since-1e40"),
    pytest.param(frame("hello", token="ada", since=MAX_SEQ + 1), id="since-2**53"),
]


@pytest.fixture(params=["memory", "redis"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    started: Broker
    if request.param == "memory":
        started = MemoryBroker()
    else:
        url = request.getfixturevalue("redis_url")
        started = RedisBroker(url, key_prefix=f"t{uuid.uuid4().hex[:10]}")
    await started.start()
    yield started
    await started.close()


async def answer(client: ClientConnection, text: str | bytes) -> dict[str, Any]:
    await client.send(text)
    async with asyncio.timeout(5):
        reply: dict[str, Any] = msgspec.json.decode(await client.recv())
    return reply


async def said_hello(client: ClientConnection) -> None:
    ack = await answer(client, frame("hello", token="ada", topics=["inbox"]))
    assert (ack["type"], ack["for"]) == ("ack", "hello")


async def closed_with(client: ClientConnection) -> tuple[int | None, str | None]:
    async with asyncio.timeout(5):
        await client.wait_closed()
    return client.close_code, client.close_reason


# Through a real socket: uvicorn, Starlette, the hub, on both brokers.


@pytest.mark.parametrize(("raw", "code"), ANSWERED)
async def test_a_bad_frame_on_a_real_socket_gets_its_error_and_the_socket_stays_open(
    broker: Broker, raw: str, code: str
) -> None:
    async with realtime_server(broker, {"ada": agent()}) as server, connect(server.url) as client:
        await said_hello(client)

        error = await answer(client, raw)
        pong = await answer(client, frame("ping", id="after"))

    assert (error["type"], error["code"]) == ("error", code)
    assert pong == {"type": "pong", "id": "after"}


@pytest.mark.parametrize("raw", BAD_HELLOS)
async def test_a_hello_with_an_impossible_since_is_refused_and_a_good_one_still_works(
    broker: Broker, raw: str
) -> None:
    async with realtime_server(broker, {"ada": agent()}) as server, connect(server.url) as client:
        error = await answer(client, raw)
        await said_hello(client)

    assert (error["type"], error["code"]) == ("error", "invalid_field")
    assert "since" in error["message"]


async def test_the_largest_since_a_client_may_send_is_answered_with_resync(
    broker: Broker,
) -> None:
    async with realtime_server(broker, {"ada": agent()}) as server, connect(server.url) as client:
        await said_hello(client)

        ack = await answer(client, frame("resume", since=MAX_SEQ))
        resync = msgspec.json.decode(await client.recv())

    assert ack == {"type": "ack", "for": "resume", "seq": 0, "replayed": 0}
    assert resync == {"type": "resync", "seq": 0}


async def test_a_binary_frame_on_a_real_socket_is_closed_with_1003(broker: Broker) -> None:
    async with realtime_server(broker, {"ada": agent()}) as server, connect(server.url) as client:
        await said_hello(client)
        await client.send(frame("ping").encode())  # the right JSON, as a binary frame

        code, reason = await closed_with(client)

    assert code == 1003
    assert reason == "binary frames are not supported; send JSON text"


async def test_a_binary_frame_before_hello_is_closed_with_1003(broker: Broker) -> None:
    async with realtime_server(broker, {"ada": agent()}) as server, connect(server.url) as client:
        await client.send(b"\x00\xff")

        code, _ = await closed_with(client)

    assert code == 1003


# The hub, with a socket held in memory.


async def test_the_hub_closes_a_binary_frame_with_1003_after_what_came_before() -> None:
    broker = MemoryBroker()
    hub = Hub(broker)
    socket = MemorySocket()
    serving = asyncio.create_task(hub.serve(socket, Session(broker=broker, authorizer=agent())))
    socket.type(frame("ping", id="first"))
    socket.send_binary(b"{}")

    async with asyncio.timeout(5):
        ended = await serving

    assert ended == Close(1003, "binary frames are not supported; send JSON text")
    assert socket.closed == (1003, "binary frames are not supported; send JSON text")
    assert socket.frames() == [{"type": "pong", "id": "first"}]


class BrokenSocket(MemorySocket):
    """A socket whose receive fails in a way no client can cause."""

    async def receive(self) -> dict[str, Any]:
        raise RuntimeError("the server's socket layer broke")


async def test_a_failure_reading_the_socket_closes_it_with_1011_rather_than_dropping_it() -> None:
    broker = MemoryBroker()
    hub = Hub(broker)
    socket = BrokenSocket()

    async with asyncio.timeout(5):
        ended = await hub.serve(socket, Session(broker=broker, authorizer=agent()))

    assert ended == Close(1011, "server error")
    assert socket.closed == (1011, "server error")


# The session, without a socket.


@pytest.mark.parametrize(("raw", "code"), ANSWERED)
async def test_a_bad_frame_gets_its_error_from_the_session(raw: str, code: str) -> None:
    broker = MemoryBroker()
    session = Session(broker=broker, authorizer=agent())
    await session.handle_text(frame("hello", topics=["inbox"]))

    out = as_dicts(await session.handle_text(raw))

    assert [(f["type"], f["code"]) for f in out] == [("error", code)]
    assert as_dicts(await session.handle_text(frame("ping"))) == [{"type": "pong"}]
