"""The real app in a real uvicorn process (the /live endpoint, the hub, RedisBroker): frames it
cannot take get their error frame or a close with a proper code, never a connection dropped
without a close frame (1006) nor a server error (1011)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

pytestmark = pytest.mark.processes
PASSWORD = "correct horse battery"


@asynccontextmanager
async def live_socket(base: str) -> AsyncIterator[tuple[ClientConnection, int]]:
    """A signed-up owner's socket on /live, past its hello, and the workspace's seq then."""
    slug = f"bf-{uuid.uuid4().hex[:10]}"
    async with httpx.AsyncClient(base_url=base + "/api/v1") as api:
        signup = await api.post(
            "/auth/signup",
            json={
                "workspace_name": slug,
                "workspace_slug": slug,
                "name": "Olivia Owner",
                "email": f"owner@{slug}.example",
                "password": PASSWORD,
            },
        )
        assert signup.status_code == 201, signup.text
        api.headers["X-CSRF-Token"] = signup.json()["csrf_token"]
        token = (await api.post("/realtime/token")).json()["token"]
    url = base.replace("http://", "ws://") + f"/live?token={token}"
    async with connect(url) as client:
        await client.send(msgspec.json.encode({"type": "hello", "topics": ["inbox"]}).decode())
        ack = await received(client)
        assert (ack["type"], ack["for"]) == ("ack", "hello")
        yield client, ack["seq"]


async def received(client: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(10):
        answer: dict[str, Any] = msgspec.json.decode(await client.recv())
    return answer


async def resume_until_closed(
    client: ClientConnection, since: int, answers: list[dict[str, Any]]
) -> None:
    for _ in range(100):
        await client.send(msgspec.json.encode({"type": "resume", "since": since}).decode())
        answers.append(await received(client))


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        pytest.param('{"type":"ping","id":1e999}', "bad_frame", id="number-beyond-float"),
        pytest.param(
            '{"type":"ping","x":' + "[" * 5000 + "]" * 5000 + "}", "bad_frame", id="nested-5000"
        ),
        pytest.param('{"type":"ping"}garbage', "bad_frame", id="object-then-garbage"),
        pytest.param('{"type":"resume","since":1e40}', "invalid_field", id="since-1e40"),
        pytest.param(
            '{"type":"resume","since":' + str(10**40) + "}", "invalid_field", id="since-10**40"
        ),
    ],
)
async def test_a_bad_frame_gets_its_error_and_the_socket_goes_on(
    server: str, raw: str, code: str
) -> None:
    async with live_socket(server) as (client, _):
        await client.send(raw)
        error = await received(client)
        await client.send('{"type":"ping","id":"after"}')
        pong = await received(client)

    assert (error["type"], error["code"]) == ("error", code)
    assert pong == {"type": "pong", "id": "after"}


async def test_a_binary_frame_is_closed_with_1003(server: str) -> None:
    async with live_socket(server) as (client, _):
        await client.send(b'{"type":"ping"}')
        async with asyncio.timeout(10):
            await client.wait_closed()

    assert (client.close_code, client.close_reason) == (
        1003,
        "binary frames are not supported; send JSON text",
    )


async def test_resume_over_and_over_is_rate_limited_then_closed_with_1008(server: str) -> None:
    answers: list[dict[str, Any]] = []
    async with live_socket(server) as (client, seq):
        with pytest.raises(ConnectionClosed):
            await resume_until_closed(client, seq, answers)

    assert [a.get("for") for a in answers[:5]] == ["resume"] * 5
    assert answers[5:]
    assert {(a["type"], a["code"]) for a in answers[5:]} == {("error", "rate_limited")}
    assert (client.close_code, client.close_reason) == (1008, "too many resumes")
