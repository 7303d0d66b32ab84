"""The in-process app served on a real socket, and a client that asks for topics on `/live`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """`app` (already started) on a free loopback port: its `ws://` base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", ws="websockets-sansio", log_level="error"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110  # uvicorn offers a flag, not an event
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _frame(client: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(10):
        frame: dict[str, Any] = msgspec.json.decode(await client.recv())
    return frame


async def _answer_to(client: ClientConnection, frame_id: str) -> dict[str, Any]:
    """The ack or error for the frame with this id (events in between are passed over)."""
    while True:
        frame = await _frame(client)
        if frame.get("id") == frame_id or (frame["type"] == "error" and frame.get("id") is None):
            return frame


async def refusals(
    base: str, token: str | None, topics: list[str], origin: str | None = None
) -> dict[str, str | None]:
    """Each topic: None when the socket may subscribe to it, else the error code it got."""
    url = base + "/live" + (f"?token={token}" if token else "")
    headers = {"Origin": origin} if origin else {}
    async with connect(url, additional_headers=headers) as client:
        await client.send(msgspec.json.encode({"type": "hello"}).decode())
        hello = await _frame(client)
        if hello["type"] != "ack":  # not signed in: nothing at all
            return dict.fromkeys(topics, str(hello.get("code")))
        answers: dict[str, str | None] = {}
        for n, topic in enumerate(topics):
            frame_id = f"s{n}"
            await client.send(
                msgspec.json.encode({"type": "subscribe", "topic": topic, "id": frame_id}).decode()
            )
            try:
                answer = await _answer_to(client, frame_id)
            except ConnectionClosed as closed:
                answers[topic] = f"closed {closed.rcvd.code if closed.rcvd else ''}"
                continue
            answers[topic] = None if answer["type"] == "ack" else str(answer["code"])
        return answers
